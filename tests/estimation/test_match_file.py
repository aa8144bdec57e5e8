"""``tiltak match`` protecting its user (issue 11): the covariates it chooses, stray tokens,
the person-level files, sensitivity, plots, help; and the new nearest-neighbour flags."""

from __future__ import annotations

import json
from pathlib import Path

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tiltak.cli import cli

GOLDEN = Path(__file__).parents[1] / "golden"
LALONDE = str(GOLDEN / "matching" / "lalonde.csv")
COVS = "age,educ,race,married,nodegree,re74,re75"




def as_json(run, *args):
    code, stdout, stderr = run(*args, "--format", "json")
    assert code == 0, stderr
    return json.loads(stdout), stderr


# --- the covariates chosen -----------------------------------------------------------


def test_identifiers_are_left_out_and_named(run):
    auto, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78")
    given, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS)
    assert auto["covariates"] == COVS.split(",") and auto["covariates_chosen"] == "automatic"
    assert auto["left_out"] == [{"column": "id", "reason": "unique per row: an identifier"}]
    assert auto["effects"] == given["effects"]  # the id column does not enter the model
    code, stdout, _ = run(LALONDE, "--treatment", "treat")
    assert code == 0
    head = stdout.splitlines()[:5]
    assert any(line.startswith("  covariates (chosen automatically; choose with --covariates): age, educ")
               for line in head)
    assert "  left out: 'id' (unique per row: an identifier)" in head


def test_integer_identifiers_and_dates(tmp_path, run):
    rng = np.random.default_rng(1)
    n = 60
    frame = pd.DataFrame({"person_nr": rng.permutation(n) + 1000, "t": rng.integers(0, 2, n),
                          "x": rng.normal(size=n), "visits": rng.integers(0, 5, n),
                          "day": pd.date_range("2020-01-01", periods=n).astype(str)})
    path = tmp_path / "ids.parquet"
    frame.assign(day=pd.to_datetime(frame["day"])).to_parquet(path)
    report, _ = as_json(run, path, "--treatment", "t")
    assert report["covariates"] == ["x", "visits"]
    assert [x["column"] for x in report["left_out"]] == ["person_nr", "day"]


def test_a_file_of_identifiers_only_is_matched_not_refused(tmp_path, run):
    path = tmp_path / "tiny.csv"
    path.write_text("t,code\n1,a\n0,b\n0,c\n1,d\n0,e\n0,f\n")
    code, stdout, stderr = run(path, "--treatment", "t")
    assert code == 0, stderr
    assert "covariate 'code' looks like an identifier but is kept: the file has no other column" in stderr
    assert "covariates (chosen automatically; choose with --covariates): code" in stdout
    # the score separates the groups completely: its SMD is R's mdiff / 0 = Inf, not a crash
    assert re.search(r"^distance +1\.0000 +\S+ +Inf ", stdout, re.M)


def test_cheap_column_checks_keep_their_meaning():
    from tiltak.filematch import _not_a_covariate, check_numbers, post_treatment_warnings

    n = 3000
    late = pd.Series(["x"] * 5 + [f"p{i}" for i in range(n - 5)], name="code")
    assert _not_a_covariate(late) is None  # repeats in the first rows: not an identifier
    ids = pd.Series([f"p{i}" for i in range(n)], name="code")
    assert _not_a_covariate(ids) == "unique per row: an identifier"
    spread = pd.Series(np.arange(n) * 7, name="amount")  # unique, not consecutive, not named
    assert _not_a_covariate(spread) is None
    assert _not_a_covariate(pd.Series(np.arange(n) * 7, name="client_id")) is not None
    treat = np.arange(n) % 2 == 0
    frame = pd.DataFrame({"gap": np.where(treat, np.arange(n) % 5, np.nan),
                          "late": np.where(treat, np.arange(n) % 5, 0.0),
                          "tail": np.r_[np.zeros(n - 2), 1.0, 2.0]})
    found = post_treatment_warnings(frame, ["gap", "late", "tail"], treat)
    assert [w.split("'")[1] for w in found] == ["gap", "late"]  # missing counts as constant
    assert all("does not vary among the controls" in w for w in found)
    many = pd.DataFrame({"v": ["1", "2", "a", "b", "c", "d", "e", "f"] + ["3"] * 20})
    check_numbers(many, "f.csv", ["v"], True)  # six distinct tokens: a text column
    few = pd.DataFrame({"v": ["1", " . ", "2"] * 10})
    with pytest.raises(Exception, match=r"column 'v': '\.' in row 2 \(line 3\), row 5 "
                                         r"\(line 6\), row 8 \(line 9\) and 7 more, where the "
                                         r"other 20 rows hold numbers"):
        check_numbers(few, "f.csv", ["v"], True)


def test_post_treatment_columns_are_warned_about(tmp_path, run):
    frame = pd.read_csv(LALONDE).drop(columns=["id"])
    rng = np.random.default_rng(3)
    frame["sessions"] = np.where(frame["treat"] == 1, rng.integers(1, 9, len(frame)), 0)
    frame["income_followup"] = rng.normal(size=len(frame))
    path = tmp_path / "post.csv"
    frame.to_csv(path, index=False)
    report, stderr = as_json(run, path, "--treatment", "treat", "--outcome", "re78")
    assert "covariate 'sessions' does not vary among the controls but does among the others" in stderr
    assert "covariate 'income_followup' has a name that suggests it was measured after treatment" in stderr
    assert any("sessions" in w for w in report["warnings"])
    assert "sessions" in report["covariates"]  # warned about, never dropped


# --- stray tokens ----------------------------------------------------------------------


@pytest.fixture()
def dotted(tmp_path):
    frame = pd.read_csv(LALONDE).drop(columns=["id"])
    text = frame.astype(str)
    text.loc[[4, 40, 400], "age"] = "."
    path = tmp_path / "dotted.csv"
    text.to_csv(path, index=False)
    return path


def test_a_stray_token_is_refused_naming_rows_and_column(dotted, run):
    code, _, stderr = run(dotted, "--treatment", "treat", "--covariates", COVS)
    assert code == 2
    assert (f"{dotted}: column 'age': '.' in row 5 (line 6), row 41 (line 42), row 401 (line 402), "
            "where the other 611 rows hold numbers; fix the file, or read it as missing with "
            "--na-values '.' (and then --drop-missing, or impute)") in stderr
    assert "Traceback" not in stderr


def test_na_values_and_drop_missing(dotted, tmp_path, run):
    code, _, stderr = run(dotted, "--treatment", "treat", "--covariates", COVS, "--na-values", ".")
    assert code == 2 and "Missing values in covariates: 'age' (3 rows)" in stderr
    out = tmp_path / "rows.csv"
    report, _ = as_json(run, dotted, "--treatment", "treat", "--covariates", COVS, "--na-values",
                        ".", "--drop-missing", "--out", out)
    assert report["rows_used"] == 611 and report["rows_dropped_missing"] == 3
    rows = pd.read_csv(out, keep_default_na=False)
    assert len(rows) == 614
    assert (rows.loc[[4, 40, 400], "weight"] == 0).all()
    assert (rows.loc[[4, 40, 400], "subclass"] == "").all()


# --- person-level files -----------------------------------------------------------------


def test_out_keeps_the_input_columns_without_pandas(tmp_path, run):
    data = tmp_path / "in.parquet"
    source = pd.read_csv(LALONDE)
    source.to_parquet(data)
    out = tmp_path / "rows.parquet"
    code, _, stderr = run(data, "--treatment", "treat", "--covariates", COVS, "--out", out)
    assert code == 0, stderr
    rows = pd.read_parquet(out)
    assert list(rows.columns) == [*source.columns, "distance", "weight", "subclass"]
    pd.testing.assert_frame_equal(rows[source.columns], source)
    clash = tmp_path / "clash.csv"
    source.assign(weight=1.0).to_csv(clash, index=False)
    code, _, stderr = run(clash, "--treatment", "treat", "--covariates", COVS, "--out", tmp_path / "o.csv")
    assert code == 2 and "the input already has a column 'weight', which --out adds" in stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("extra", [[], ["--ratio", "2"], ["--ratio", "2", "--replace"]])
def test_out_matches_is_get_matches(tmp_path, run, extra):
    out = tmp_path / "long.csv"
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", COVS,
                        "--caliper", "0.2", "--out-matches", out, *extra)
    long = pd.read_csv(out)
    source = pd.read_csv(LALONDE)
    assert list(long.columns[:3]) == ["row", "subclass", "weight"] and long.columns[-1] == "distance"
    assert list(long.columns[3:-1]) == list(source.columns)
    # each pair: its treated unit first with weight 1, then its k controls with 1/k
    for _, pair in long.groupby("subclass", sort=True):
        assert pair["treat"].iloc[0] == 1 and (pair["treat"].iloc[1:] == 0).all()
        assert pair["weight"].iloc[0] == 1
        np.testing.assert_allclose(pair["weight"].iloc[1:], 1 / (len(pair) - 1))
    pd.testing.assert_frame_equal(long[source.columns].reset_index(drop=True),
                                  source.iloc[long["row"] - 1][source.columns].reset_index(drop=True))
    assert long["subclass"].max() == report["sample_sizes"]["Matched"]["Treated"]
    if "--replace" in extra:
        assert long.loc[long["treat"] == 0, "row"].duplicated().any()  # reused controls repeat


def test_out_matches_needs_pairs(tmp_path, run):
    code, _, stderr = run(LALONDE, "--treatment", "treat", "--covariates", COVS, "--method",
                          "subclass", "--out-matches", tmp_path / "long.csv")
    assert code == 2
    assert "--out-matches" in stderr and "needs matched pairs" in stderr and "gives strata" in stderr


def test_help_names_the_person_level_output_and_the_standard_errors():
    text = " ".join(CliRunner().invoke(cli, ["match", "--help"], terminal_width=200).output.split())
    assert "pair-clustered" not in text
    assert "Abadie-Imbens for the difference in means with --replace" in text
    assert "the one person-level output of tiltak" in text


# --- sensitivity and plots -------------------------------------------------------------


def test_sensitivity_in_text_and_json(run):
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS)
    sens = report["sensitivity"]
    assert sens["e_value"]["point"] > 1 and sens["rosenbaum"]["available"]
    assert sens["rosenbaum"]["method"] == "wilcoxon" and sens["rosenbaum"]["sets"] == 185
    code, stdout, _ = run(LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS)
    assert "Sensitivity to hidden bias" in stdout and "E-value (VanderWeele and Ding 2017)" in stdout
    assert "Rosenbaum bounds (wilcoxon, 185 matched sets)" in stdout


@pytest.mark.parametrize("extra, reason", [
    (["--replace"], "some controls are matched to several treated units"),
    (["--method", "weighting"], "not available for weighting"),
    (["--method", "subclass"], "not available for subclassification"),
])
def test_rosenbaum_not_available_says_why(run, extra, reason):
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78",
                        "--covariates", COVS, *extra)
    rb = report["sensitivity"]["rosenbaum"]
    assert rb["available"] is False and reason in rb["reason"]
    assert report["sensitivity"]["e_value"]["point"] >= 1


def test_full_matching_with_several_treated_per_set_gets_senfm_bounds(run):
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS,
                        "--method", "full")
    rb = report["sensitivity"]["rosenbaum"]
    assert rb["available"] is True and rb["method"] == "mstatistic"


def test_full_matching_with_one_treated_per_set_gets_bounds(run):
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--outcome", "re78",
                        "--covariates", COVS, "--method", "full", "--min-controls", "1")
    assert report["sensitivity"]["rosenbaum"]["method"] == "mstatistic"


def test_plots_are_written(tmp_path, run):
    folder = tmp_path / "plots"
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", COVS, "--plots", folder)
    assert sorted(p.name for p in folder.iterdir()) == ["love.svg", "overlap.svg"]
    assert (folder / "love.svg").read_text().lstrip().startswith("<?xml")
    assert report["plots"] == [str(folder / "love.svg"), str(folder / "overlap.svg")]
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", COVS, "--distance",
                        "mahalanobis", "--plots", tmp_path / "p2")
    assert [Path(p).name for p in report["plots"]] == ["love.svg"]  # no score: no overlap plot


# --- the new nearest-neighbour flags --------------------------------------------------


def test_nearest_options_reach_the_matcher(run):
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", "age,educ,re74,re75",
                        "--distance", "mahalanobis", "--exact", "married", "--covariate-caliper",
                        "age=5", "--antiexact", "nodegree", "--order", "closest")
    s = report["settings"]
    assert s["distance"] == "mahalanobis" and s["exact"] == ["married"] and s["order"] == "closest"
    assert s["covariate_calipers"] == {"age": {"caliper": 5.0, "std": False}}
    assert s["antiexact"] == ["nodegree"] and s["distance_columns"] == ["age", "educ", "re74", "re75"]
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", COVS, "--ratio", "2",
                        "--reuse-max", "2", "--mahvars", "age,educ", "--caliper", "0.2")
    assert report["settings"]["reuse_max"] == 2 and report["settings"]["mahvars"] == ["age", "educ"]
    report, _ = as_json(run, LALONDE, "--treatment", "treat", "--covariates", COVS, "--ratio", "2",
                        "--max-controls", "4")
    assert report["settings"]["max_controls"] == 4 and report["settings"]["ratio"] == 2


@pytest.mark.parametrize("args, message", [
    (["--distance", "mahalanobis", "--caliper", "0.2"], "--caliper needs a propensity score; --distance mahalanobis has none"),
    (["--distance", "euclidean", "--mahvars", "age"], "--mahvars needs --distance glm or logit"),
    (["--distance", "mahalanobis", "--method", "full"], "--distance mahalanobis applies to --method nearest only"),
    (["--antiexact", "married", "--method", "optimal"], "--antiexact applies to --method nearest only"),
    (["--max-controls", "3"], "--max-controls with --method nearest needs --ratio"),
    (["--covariate-caliper", "age"], "--covariate-caliper: expected COLUMN=WIDTH with a width > 0"),
    (["--covariate-caliper", "agee=3"], "--covariate-caliper: unknown column 'agee'"),
])
def test_flag_errors(run, args, message):
    code, _, stderr = run(LALONDE, "--treatment", "treat", "--covariates", COVS, *args)
    assert code == 2 and message in stderr, stderr
