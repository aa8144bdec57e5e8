"""``tiltak match``: the command on files, its outputs and its input errors."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tiltak.cli import cli

GOLDEN = Path(__file__).parents[1] / "golden"
LALONDE = str(GOLDEN / "matching" / "lalonde.csv")
COVS = "age,educ,race,married,nodegree,re74,re75"




def test_ties_row_gives_the_distance_matrix_match(run):
    """--ties row: MatchIt's distance-matrix path (golden effects: SE 730.84 on lalonde)."""
    code, stdout, stderr = run(LALONDE, "--treatment", "treat", "--outcome", "re78",
                               "--covariates", COVS, "--format", "json", "--ties", "row")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["settings"]["ties"] == "row"
    effects = {e["method"]: e for e in report["effects"]}
    reference = json.loads((GOLDEN / "effects" / "lalonde_nn1.json").read_text())
    assert effects["regression"]["std_error"] == pytest.approx(reference["se_regression"], rel=1e-6)


def test_lalonde_vignette_json_and_rows(tmp_path, run):
    out = tmp_path / "rows.csv"
    code, stdout, stderr = run(LALONDE, "--treatment", "treat", "--outcome", "re78",
                               "--covariates", COVS, "--format", "json", "--out", str(out))
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["sample_sizes"]["Matched"] == {"Control": 185.0, "Treated": 185.0}
    after = {row["term"]: row for row in report["balance"]}
    assert after["age"]["mean_control_after"] == pytest.approx(25.3027, abs=5e-5)
    effects = {e["method"]: e for e in report["effects"]}
    # MatchIt 4.7.2's default call: regression-adjusted 1344.94, pair-clustered SE 718.98
    reference = json.loads((GOLDEN / "ties" / "ties-4.7.2.json").read_text())["lalonde"]
    assert effects["regression"]["estimate"] == pytest.approx(reference["att_regression"], rel=1e-8)
    assert effects["regression"]["std_error"] == pytest.approx(reference["se_regression"], rel=1e-6)
    assert round(effects["regression"]["std_error"], 2) == 718.98
    rows = pd.read_csv(out, keep_default_na=False)
    source = pd.read_csv(LALONDE, keep_default_na=False)
    assert list(rows.columns) == [*source.columns, "distance", "weight", "subclass"]
    pd.testing.assert_frame_equal(rows[source.columns], source)  # MatchIt's match_data()
    assert len(rows) == 614
    unmatched = rows["weight"] == 0
    assert (rows.loc[unmatched, "subclass"] == "").all()
    assert rows.loc[~unmatched, "subclass"].astype(int).nunique() == 185
    golden = json.loads((GOLDEN / "matching" / "lalonde.json").read_text())
    np.testing.assert_allclose(rows["distance"], golden["ps"], atol=1e-8)
    np.testing.assert_allclose(rows["weight"], golden["results"][0]["weights"], atol=1e-12)


def test_deterministic_bytes_and_parquet(tmp_path, run):
    data = tmp_path / "in.parquet"
    pd.read_csv(LALONDE).to_parquet(data)
    args = [str(data), "--treatment", "treat", "--covariates", COVS, "--order", "random",
            "--seed", "4", "--ratio", "2", "--replace", "--format", "json"]
    first = run(*args, "--out", str(tmp_path / "a.parquet"))
    second = run(*args, "--out", str(tmp_path / "b.parquet"))
    assert first[0] == 0 and first[1] == second[1]
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_text_summary_mentions_estimand_and_sizes():
    result = CliRunner().invoke(cli, ["match", LALONDE, "--treatment", "treat", "--covariates",
                                      COVS, "--caliper", "0.1"])
    assert result.exit_code == 0, result.output
    assert "Summary of balance for matched data" in result.output
    assert "caliper 0.1 SD" in result.output and "Estimand: ATT" in result.output


def test_help_has_example():
    result = CliRunner().invoke(cli, ["match", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.fixture()
def small(tmp_path):
    frame = pd.DataFrame({"t": [1, 0, 0, 1, 0, 0, 1, 0], "x": [1.0, 2.0, 3.0, 2.5, 0.5, 4.0, 3.5, 1.5],
                          "g": list("aabbabab"), "y": np.arange(8.0)})
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    return tmp_path, path


@pytest.mark.parametrize("args, message", [
    (["--treatment", "nope"], "small.csv: --treatment: unknown column 'nope'; expected one of 't', 'x', 'g', 'y'"),
    (["--treatment", "t", "--covariates", "x,z"], "small.csv: --covariates: unknown column 'z'"),
    (["--treatment", "t", "--exact", "w"], "small.csv: --exact: unknown column 'w'"),
    (["--treatment", "t", "--outcome", "q"], "small.csv: --outcome: unknown column 'q'"),
    (["--treatment", "x"], "small.csv: --treatment 'x': expected 0/1 or true/false; got '0.5', '1.5', '2.0', '2.5', '3.0'"),
    (["--treatment", "t", "--covariates", "t,x"], "small.csv: --covariates: 't' is the treatment column"),
    (["--treatment", "t", "--caliper", "-0.2"], "Invalid value for '--caliper': must be a number > 0; got -0.2"),
    (["--treatment", "t", "--ratio", "0"], "Invalid value for '--ratio'"),
    (["--treatment", "t", "--order", "biggest"], "Invalid value for '--order'"),
    (["--treatment", "t", "--out", "rows.txt"], "--out rows.txt: unsupported file type '.txt'; expected .csv or .parquet"),
    (["--treatment", "t", "--caliper", "0.0001"], "No units were matched: no treated unit has an available control within the caliper"),
    (["--treatment", "t", "--covariates", ","], "--covariates: expected column names separated by commas; got ','"),
    (["--treatment", "t", "--exact", " "], "--exact: expected column names separated by commas; got ' '"),
    (["--treatment", "t", "--outcome", "t"], "small.csv: --outcome 't' is the treatment column; expected another column"),
    (["--treatment", "t", "--covariates", "x,x"], "Covariate names must be unique; repeated: x."),
    (["--treatment", "t", "--caliper", "nan"], "Invalid value for '--caliper': must be a number > 0; got nan"),
    (["--treatment", "t", "--caliper", "abc"], "Invalid value for '--caliper': 'abc' is not a valid float"),
    (["--treatment", "g"], "small.csv: --treatment 'g': expected 0/1 or true/false; got 'a', 'b'"),
])
def test_input_errors_exit_2_without_traceback(small, args, message, run):
    folder, path = small
    code, stdout, stderr = run(str(path), *args)
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not (folder / "rows.txt").exists()


def test_file_errors(tmp_path, run):
    code, _, stderr = run(str(tmp_path / "missing.csv"), "--treatment", "t")
    assert code == 2 and "missing.csv: no such file" in stderr
    (tmp_path / "data.xlsx").write_text("x")
    code, _, stderr = run(str(tmp_path / "data.xlsx"), "--treatment", "t")
    assert code == 2 and "unsupported file type '.xlsx'; expected a .csv or .parquet file" in stderr
    (tmp_path / "bad.parquet").write_text("not parquet")
    code, _, stderr = run(str(tmp_path / "bad.parquet"), "--treatment", "t")
    assert code == 2 and "bad.parquet: cannot be read as PARQUET" in stderr
    (tmp_path / "empty.csv").write_text("t,x\n")
    code, _, stderr = run(str(tmp_path / "empty.csv"), "--treatment", "t")
    assert code == 2 and "empty.csv: the file has no data rows" in stderr


def test_missing_covariate_values_named(tmp_path, run):
    frame = pd.DataFrame({"t": [1, 0, 0, 1, 0, 0], "age": [30, None, 25, None, 41, 50],
                          "sex": ["m", "f", None, "m", "f", "m"]})
    frame.to_csv(tmp_path / "m.csv", index=False)
    code, _, stderr = run(str(tmp_path / "m.csv"), "--treatment", "t")
    assert code == 2
    assert stderr.strip() == ("Missing values in covariates: 'age' (2 rows), 'sex' (1 row). "
                              "Impute them or drop the rows explicitly.")


def test_missing_treatment_values(tmp_path, run):
    pd.DataFrame({"t": [1, None, 0], "x": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "t.csv", index=False)
    code, _, stderr = run(str(tmp_path / "t.csv"), "--treatment", "t")
    assert code == 2 and "--treatment 't': 1 row without a value" in stderr


def test_exact_outside_covariates(small, run):
    _, path = small
    code, stdout, stderr = run(str(path), "--treatment", "t", "--covariates", "x", "--exact", "g",
                               "--format", "json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["settings"]["exact"] == ["g"]
    assert {row["variable"] for row in report["balance"]} >= {"x", "g"}


def test_outcome_errors(tmp_path, run):
    path = tmp_path / "o.csv"
    path.write_text("t,x,y\n1,1,a\n0,2,3\n0,3,4\n1,2.5,5\n")
    code, _, stderr = run(path, "--treatment", "t", "--covariates", "x", "--outcome", "y")
    assert code == 2 and "o.csv: --outcome 'y': expected numbers; got 'a' in 1 row" in stderr
    path.write_text("t,x,y\n1,1,\n0,2,3\n0,3,4\n1,2.5,5\n0,1.5,2\n0,2.7,1\n")
    code, _, stderr = run(path, "--treatment", "t", "--covariates", "x", "--outcome", "y")
    assert code == 2 and "--outcome 'y': 1 row matched without a value" in stderr


def test_out_may_not_overwrite_input(small, run):
    _, path = small
    before = path.read_bytes()
    code, _, stderr = run(path, "--treatment", "t", "--out", path)
    assert code == 2 and "would overwrite the input file" in stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("text, message", [
    ("t,x,x,y\n1,1,2,3\n0,2,3,4\n", "column 'x' appears more than once in the header; expected unique column names"),
    ("t,x,y\n1,1,3\n0,2,4\n1,1e308,4\n0,3,5\n", "Covariates must be numbers below 1e+150 in absolute value"),
    ("t,x,y\n1,1,3\n0,2,4\n1,inf,4\n0,3,5\n", "Covariates must be finite numbers; infinite values in: x."),
    ("t,x,y\n1,1,3\n1,2,4\n", "The treatment has no control units: 2 treated of 2"),
    ("t,x,y\n0,1,3\n0,2,4\n", "The treatment has no treated units: 0 treated of 2"),
])
def test_malformed_files_exit_2_with_one_message(tmp_path, run, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, stdout, stderr = run(path, "--treatment", "t", "--out", tmp_path / "rows.csv")
    assert code == 2 and "Traceback" not in stderr and stdout == ""
    assert message in stderr
    assert not (tmp_path / "rows.csv").exists()


def test_infinite_outcome_is_named(tmp_path, run):
    path = tmp_path / "o.csv"
    path.write_text("t,x,y\n1,1,inf\n0,2,3\n0,3,4\n1,2.5,5\n0,1.5,2\n0,2.7,1\n")
    code, _, stderr = run(path, "--treatment", "t", "--covariates", "x", "--outcome", "y")
    assert code == 2 and "--outcome 'y': 1 row matched with an infinite value; expected finite numbers" in stderr


def test_exact_on_a_continuous_column_warns(tmp_path, run):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": np.tile([1, 0, 0], 20), "x": rng.normal(size=60), "g": np.tile(list("ab"), 30)})
    frame.to_csv(tmp_path / "c.csv", index=False)
    code, _, stderr = run(tmp_path / "c.csv", "--treatment", "t", "--covariates", "g", "--exact", "x")
    assert "Warning: --exact 'x' has 60 distinct values (a continuous variable?)" in stderr
    code, _, stderr = run(tmp_path / "c.csv", "--treatment", "t", "--covariates", "x", "--exact", "g")
    assert code == 0 and "continuous variable" not in stderr


def test_data_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, run):
    import os

    os.mkfifo(tmp_path / "pipe.csv")  # reading it would block forever
    code, _, stderr = run(tmp_path / "pipe.csv", "--treatment", "t")
    assert code == 2 and "pipe.csv: not a regular file (a folder, pipe or device?); expected a data file" in stderr
    (tmp_path / "folder.csv").mkdir()
    code, _, stderr = run(tmp_path / "folder.csv", "--treatment", "t")
    assert code == 2 and "Traceback" not in stderr


@pytest.mark.parametrize("size, message", [
    ("1M", "matching needs about"),
    ("lots", "--max-memory: expected a size such as 4G or 500M; got 'lots'"),
    ("-2G", "--max-memory: expected a size > 0; got '-2G'"),
])
def test_max_memory_refuses_before_reading(small, size, message, run):
    folder, path = small
    code, stdout, stderr = run(str(path), "--treatment", "t", "--max-memory", size,
                               "--out", str(folder / "rows.csv"))
    assert code == 2 and message in stderr and "Traceback" not in stderr and stdout == ""
    assert not (folder / "rows.csv").exists()


def test_max_memory_large_enough_runs(small, run):
    _, path = small
    code, _, stderr = run(str(path), "--treatment", "t", "--max-memory", "8G")
    assert code == 0, stderr


def test_memory_rule_counts_rows_and_design_columns():
    from tiltak.match_memory import BASE_BYTES, MatchShape, file_shape, matching_bytes, parse_size

    assert parse_size("4G") == 4 * 2**30 and parse_size("500MB") == 500 * 2**20
    with_outcome = matching_bytes(MatchShape(10**6, 168, 27, outcome=True))
    assert with_outcome > matching_bytes(MatchShape(10**6, 168, 27)) > BASE_BYTES
    assert matching_bytes(MatchShape(2 * 10**6, 168, 27, outcome=True)) - with_outcome == \
        with_outcome - BASE_BYTES  # linear in the rows
    rows, columns, row_bytes, text = file_shape(LALONDE)
    assert columns == 10 and 500 < rows < 750 and row_bytes == 80 and text > 0  # 614 rows
