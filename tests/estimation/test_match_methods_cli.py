"""``tiltak match --method``: every method on a file, its estimand label, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


GOLDEN = Path(__file__).parents[1] / "golden"
LALONDE = str(GOLDEN / "matching" / "lalonde.csv")
COVS = "age,educ,race,married,nodegree,re74,re75"




@pytest.mark.parametrize("args, method, estimand, se_type", [
    (["--method", "optimal", "--ratio", "2"], "optimal", "ATT", "cluster"),
    (["--method", "full"], "full", "ATT", "cluster"),
    (["--method", "full", "--estimand", "ate", "--max-controls", "8"], "full", "ATE", "cluster"),
    (["--method", "subclass", "--subclasses", "5"], "subclass", "ATT", "robust+sandwich"),
    (["--method", "subclass", "--estimand", "ATE"], "subclass", "ATE", "robust"),
    (["--method", "cem", "--cutpoints", "age=4,re74=0/5000,re75=0"], "cem", "ATT", "robust+sandwich"),
    (["--method", "weighting", "--estimand", "ATO"], "weighting", "ATO", "m_estimation"),
    (["--method", "weighting", "--estimand", "ATE", "--stabilize", "--trim", "0.05"],
     "weighting", "ATE", "m_estimation"),
    (["--method", "weighting", "--weights", "ebal", "--moments", "2"], "weighting", "ATT",
     "m_estimation"),
])
def test_each_method_reports_its_estimand_and_effects(run, args, method, estimand, se_type):
    code, stdout, stderr = run(LALONDE, "--treatment", "treat", "--outcome", "re78",
                               "--covariates", COVS, "--format", "json", *args)
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["method"] == method and report["estimand"] == estimand
    assert report["estimand_label"].startswith(f"{estimand}: ")
    assert {e["se_type"] for e in report["effects"]} == set(se_type.split("+"))
    assert all(e["estimand"] == estimand for e in report["effects"])


@pytest.mark.parametrize("method", ["subclass", "cem"])
def test_strata_add_the_control_outcome_regression(run, method):
    """After subclassification or CEM (ATT) the third effect is estimation.estimate_att_interactions
    (MatchIt's advice for strata: the common slope is biased when the effect varies with a covariate
    left imbalanced within the strata); the first two are unchanged."""
    from estimation import CoarsenedExactMatching, Subclassification, estimate_att, estimate_att_interactions

    code, stdout, stderr = run(LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS,
                               "--method", method, "--format", "json")
    assert code == 0, stderr
    effects = json.loads(stdout)["effects"]
    frame = pd.read_csv(LALONDE)
    X = frame[COVS.split(",")]
    api = (Subclassification() if method == "subclass" else CoarsenedExactMatching()).fit(X, frame["treat"]).result_
    expected = [estimate_att(api, frame["re78"]), estimate_att(api, frame["re78"], covariates=COVS.split(",")),
                estimate_att_interactions(api, frame["re78"], X)]
    assert [e["method"] for e in effects] == ["difference_in_means", "regression", "control_outcome_regression"]
    for got, want in zip(effects, expected):
        assert got["estimate"] == pytest.approx(want.estimate, rel=1e-12)
        assert got["std_error"] == pytest.approx(want.std_error, rel=1e-12)
    assert effects[2]["estimate"] != pytest.approx(effects[1]["estimate"], rel=1e-6)
    text = run(LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS, "--method", method)[1]
    assert "control-outcome regression (the comparison units' own covariate slopes)" in text


def test_text_summary_names_the_method_and_the_estimand_in_words(run):
    code, stdout, _ = run(LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates",
                          COVS, "--method", "cem")
    assert code == 0
    head = stdout.splitlines()[:2]
    assert head[0].startswith("Coarsened exact matching:")
    assert "the method kept only" in head[1] and "of the 185 treated units" in head[1]


def test_full_matching_rows_and_determinism(tmp_path, run):
    args = [LALONDE, "--treatment", "treat", "--covariates", COVS, "--method", "full",
            "--caliper", "0.2", "--format", "json"]
    first = run(*args, "--out", tmp_path / "a.csv")
    second = run(*args, "--out", tmp_path / "b.csv")
    assert first[0] == 0 and first[1] == second[1]
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rows = pd.read_csv(tmp_path / "a.csv", keep_default_na=False)
    matched = rows["weight"] > 0
    assert (rows.loc[~matched, "subclass"] == "").all()
    assert rows.loc[matched, "subclass"].astype(int).nunique() > 50
    np.testing.assert_allclose(rows.loc[pd.read_csv(LALONDE)["treat"].eq(1) & matched, "weight"], 1)


@pytest.mark.parametrize("args, message", [
    (["--method", "full", "--replace"], "--replace applies to --method nearest only; got --method full"),
    (["--method", "weighting", "--caliper", "0.2"], "--caliper applies to --method nearest, optimal, full only"),
    (["--method", "cem", "--exact", "race"], "--exact applies to --method nearest, optimal, full only"),
    (["--method", "nearest", "--subclasses", "4"], "--subclasses applies to --method subclass only"),
    (["--estimand", "ATE"], "--estimand ATE: --method nearest estimates ATT"),
    (["--method", "subclass", "--estimand", "ATO"], "--method subclass estimates ATT, ATC, ATE"),
    (["--method", "weighting", "--weights", "ebal", "--trim", "0.1"], "--stabilize and --trim apply to --weights ipw only"),
    (["--method", "weighting", "--moments", "2"], "--moments applies to --weights ebal only"),
    (["--method", "weighting", "--stabilize"], "stabilize"),
    (["--method", "cem", "--cutpoints", "age=a/b"], "--cutpoints age: expected cut points as numbers separated by '/'; got 'a/b'"),
    (["--method", "cem", "--cutpoints", "=3"], "--cutpoints: expected COLUMN=RULE; got '=3'"),
    (["--method", "cem", "--cutpoints", "nope=3"], "'cutpoints' parameter of CoarsenedExactMatching must be a mapping of columns of X"),
    (["--method", "optimal", "--caliper", "0.005", "--covariates", "age,educ,re74"], "Optimal matching has no feasible solution"),
    (["--method", "optimal", "--ratio", "2", "--max-controls", "2"], "between min_controls"),
    (["--method", "weighting", "--trim", "0.6"], "Invalid value for '--trim'"),
    (["--k2k"], "--k2k applies to --method cem only; got --method nearest"),
    (["--grouping", "race=black+hispan"], "--grouping applies to --method cem only"),
    (["--method", "cem", "--grouping", "race"], "--grouping: expected COLUMN=LEVEL+LEVEL[/LEVEL+LEVEL...]; got 'race'"),
    (["--method", "cem", "--grouping", "race=black++hispan"], "--grouping: expected COLUMN=LEVEL+LEVEL"),
    (["--method", "cem", "--grouping", "race=black+hispan", "--grouping", "race=white"], "is given twice"),
    (["--method", "cem", "--grouping", "colour=a+b"], "'grouping' parameter of CoarsenedExactMatching"),
    (["--method", "full", "--k2k"], "--k2k applies to --method cem only; got --method full"),
    (["--method", "subclass", "--k2k-method", "euclidean"], "--k2k-method applies to --method cem only"),
    (["--method", "cem", "--k2k-method", "euclidean"], "--k2k-method applies with --k2k only"),
    (["--method", "cem", "--k2k", "--k2k-method", "manhattan"], "Invalid value for '--k2k-method'"),
])
def test_method_refusals_exit_2_with_one_message(run, args, message):
    code, stdout, stderr = run(LALONDE, "--treatment", "treat", *args)
    assert code == 2, stderr
    assert message in stderr and "Traceback" not in stderr and stdout == ""


K2K_CUTS = {"age": 4, "re74": [0, 5000], "re75": 0}


@pytest.mark.parametrize("flags, method, estimand", [
    ([], "mahalanobis", "ATT"), (["--k2k-method", "euclidean"], "euclidean", "ATT"),
    (["--k2k-method", "none"], None, "ATT"), (["--k2k-method", "scaled_euclidean", "--estimand", "ATE"],
                                              "scaled_euclidean", "ATE")])
def test_cem_k2k_equals_the_api_and_is_named(tmp_path, run, flags, method, estimand):
    """--k2k (MatchIt's k2k = TRUE) and --k2k-method give CoarsenedExactMatching(k2k=True,
    k2k_method=...)'s matched sample, row for row, and the summary names them."""
    from estimation import CoarsenedExactMatching, estimate_att

    args = [LALONDE, "--treatment", "treat", "--outcome", "re78", "--covariates", COVS, "--method", "cem",
            "--cutpoints", "age=4,re74=0/5000,re75=0", "--k2k", *flags]
    code, stdout, stderr = run(*args, "--format", "json", "--out", tmp_path / "k2k.csv")
    assert code == 0, stderr
    report = json.loads(stdout)
    frame = pd.read_csv(LALONDE)
    api = CoarsenedExactMatching(cutpoints=K2K_CUTS, estimand=estimand, k2k=True, k2k_method=method).fit(
        frame[COVS.split(",")], frame["treat"]).result_
    rows = pd.read_csv(tmp_path / "k2k.csv")
    np.testing.assert_array_equal(rows["weight"].to_numpy(), api.weights)
    np.testing.assert_array_equal(rows["subclass"].fillna(-1).to_numpy(dtype=int), api.subclass)
    assert report["settings"]["k2k"] is True and report["settings"]["k2k_method"] == method
    assert report["effects"][0]["estimate"] == pytest.approx(estimate_att(api, frame["re78"]).estimate, rel=1e-12)
    if estimand == "ATT":  # one-to-one pairs: a match matrix, so Rosenbaum's bounds for pairs
        assert api.structure == "pairs" and report["sensitivity"]["rosenbaum"]["method"] == "wilcoxon"
    text = run(*args)[1]
    assert f"k2k: one to one within the strata, distance {method or 'none (input order)'}" in text.splitlines()[0]


def test_cem_without_k2k_is_unchanged(run):
    args = [LALONDE, "--treatment", "treat", "--covariates", COVS, "--method", "cem", "--format", "json"]
    plain = json.loads(run(*args)[1])
    assert "k2k" not in plain["settings"]
    k2k = json.loads(run(*args, "--k2k")[1])
    assert k2k["sample_sizes"]["Matched"]["Treated"] < plain["sample_sizes"]["Matched"]["Treated"] or \
        k2k["sample_sizes"]["Matched"]["Control"] < plain["sample_sizes"]["Matched"]["Control"]


def test_cem_grouping_equals_the_api(tmp_path, run):
    """--grouping race=black+hispan is CoarsenedExactMatching(grouping={"race": [["black", "hispan"]]})."""
    from estimation import CoarsenedExactMatching

    code, stdout, stderr = run(LALONDE, "--treatment", "treat", "--covariates", COVS, "--method", "cem",
                               "--grouping", "race=black+hispan", "--format", "json", "--out", tmp_path / "g.csv")
    assert code == 0, stderr
    frame = pd.read_csv(LALONDE)
    api = CoarsenedExactMatching(grouping={"race": [["black", "hispan"]]}).fit(frame[COVS.split(",")],
                                                                               frame["treat"]).result_
    rows = pd.read_csv(tmp_path / "g.csv")
    np.testing.assert_array_equal(rows["weight"].to_numpy(), api.weights)
    assert json.loads(stdout)["settings"]["bins"]["race"] == "grouped"
    plain = CoarsenedExactMatching().fit(frame[COVS.split(",")], frame["treat"]).result_
    assert not np.array_equal(plain.weights, api.weights)
