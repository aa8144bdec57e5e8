"""The shipped models, the schema files and the fast start of ``tiltak validate``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from logicmodel.jsonschema import FILES, schema_text
from logicmodel.loading import load_bundle
from logicmodel.validation import validate_paths

REPO = Path(__file__).resolve().parents[2]
MODELS = sorted(p for p in (REPO / "models").glob("*.yaml") if p.name != "indicators.yaml")


def test_three_measures_are_shipped():
    assert {p.stem for p in MODELS} >= {"veien-videre", "kvalifisering-lokal", "kvalifisering-nasjonal"}


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_shipped_model_validates_without_errors(path: Path):
    report = validate_paths([str(path)])
    assert [i.render() for i in report.issues if i.is_error] == []


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_shipped_model_points_editors_at_the_schema(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/logicmodel.schema.json"


def test_shipped_models_use_their_own_measure_and_differ_in_cost():
    bundles = {p.stem: load_bundle(p) for p in MODELS}
    measures = {name: b.model.measure for name, b in bundles.items()}
    assert measures["veien-videre"] == "VV" and measures["kvalifisering-lokal"] == "KVL"
    assert measures["kvalifisering-nasjonal"] == "KVN"
    cost = {name: b.model.costs.per_participant_nok for name, b in bundles.items()}
    assert cost["kvalifisering-nasjonal"] > 3 * cost["veien-videre"]


def test_veien_videre_expects_more_return_and_better_mental_health():
    model = load_bundle(REPO / "models" / "veien-videre.yaml").model
    changes = {c.outcome: c for c in model.expected_changes if c.outcome}
    assert changes["assisted_return_12m"].direction == "increase"
    assert changes["assisted_return_12m"].min_change == pytest.approx(0.05)
    assert changes["hscl10_change_6m"].direction == "decrease"
    assert changes["hscl10_change_6m"].min_change == pytest.approx(0.10)
    tested = set(model.evaluation.tests)
    assert {c.id for c in changes.values()} <= tested


@pytest.mark.parametrize("which", sorted(FILES))
def test_schema_files_are_up_to_date(which: str):
    shipped = (REPO / "schemas" / FILES[which]).read_text(encoding="utf-8")
    assert shipped == schema_text(which), "run: python -m tiltak schema --write schemas"


def test_validate_does_not_import_heavy_packages():
    code = (
        "import sys; from tiltak.cli import main\n"
        "try:\n    main(['validate', 'models'])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'duckdb', 'scipy') if m in sys.modules]\n"
        "print('HEAVY', heavy, code)\n"
        # nor what only monitoring, estimation and the disclosure audit use (its start, issue 14)
        "other = [m for m in ('monitoring.sqlcompile', 'monitoring.compiler', 'monitoring.engines',\n"
        "                     'monitoring.monitored', 'threadpoolctl') if m in sys.modules]\n"
        "print('OTHER', other)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "HEAVY [] 0" in result.stdout, result.stdout + result.stderr
    assert "OTHER []" in result.stdout, result.stdout + result.stderr


def test_validate_leaves_nothing_for_the_exit_collections_and_prints_the_same(tmp_path: Path):
    """Round 8 (issue 14): the command runs with the cyclic collector off and freezes every
    object before it exits, so Python's exit collections have nothing to scan; the output
    and exit code are those of a run with the collector on (a model with errors and one
    without, text and JSON)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODELS[0].read_text(encoding="utf-8").replace("measure:", "measure_x:", 1), encoding="utf-8")
    (tmp_path / "indicators.yaml").write_text((REPO / "models" / "indicators.yaml").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    code = (
        "import gc, sys; from tiltak.cli import main\n"
        "try:\n    main(sys.argv[2:])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "if sys.argv[1] == 'state':\n"
        "    print('STATE', gc.isenabled(), gc.get_count()[0] < 50, gc.get_freeze_count() > 100000, code)\n"
    )
    state = subprocess.run([sys.executable, "-c", code, "state", "validate", "models"], capture_output=True,
                           text=True, cwd=REPO, timeout=120)
    assert "STATE False True True 0" in state.stdout, state.stdout + state.stderr
    on = ("import gc; gc.disable = lambda: None; gc.freeze = lambda: None\n" + code)
    for args in (["validate", "models"], ["validate", str(bad)], ["validate", str(bad), "--format", "json"]):
        runs = [subprocess.run([sys.executable, "-c", text, "run", *args], capture_output=True, text=True,
                               cwd=REPO, timeout=120) for text in (code, on)]
        assert runs[0].returncode == runs[1].returncode
        assert (runs[0].stdout, runs[0].stderr) == (runs[1].stdout, runs[1].stderr)
    assert "error" in runs[0].stdout


def test_validate_json_output(cli, mutate):
    path = mutate("indicators: [hscl10_mean]", "indicators: [hscl_mean]")
    result = cli("validate", str(path), "--format", "json")
    assert result.returncode == 1
    issues = json.loads(result.stdout)
    assert issues == [{
        "file": str(path), "line": 16, "column": 18, "severity": "error", "rule": "LM020",
        "path": "nodes.1.indicators.0",
        "message": "unknown indicator 'hscl_mean'; did you mean 'hscl10_mean'? expected one of 'hscl10_mean', 'participants', 'returns_per_100'",
    }]


def test_validate_text_output_and_summary_for_a_folder(cli, workdir):
    result = cli("validate", str(workdir))
    assert result.returncode == 0
    assert result.stdout == "2 files checked: 0 errors, 0 warnings\n"


def test_warnings_alone_exit_0(cli, mutate):
    path = mutate("tests: [hscl_down, return_up]", "tests: [hscl_down]")
    result = cli("validate", str(path))
    assert result.returncode == 0
    assert "warning LM034" in result.stdout
    assert result.stdout.endswith("2 files checked: 0 errors, 1 warning\n")


def test_the_annotated_example_in_the_docs_validates(tmp_path: Path):
    text = (REPO / "docs" / "logic-models.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(example, encoding="utf-8")
    (tmp_path / "indicators.yaml").write_text((REPO / "models" / "indicators.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    report = validate_paths([str(tmp_path / "example.yaml")])
    assert [i.render() for i in report.issues] == []


def test_validate_with_filters_binds_catalogue_filters(cli, mutate, workdir):
    mutate("filter: \"instrument = 'hscl10'\"", "filter: \"instrumnt = 'hscl10'\"", file="catalogue.yaml")
    result = cli("validate", str(workdir / "valid.yaml"), "--filters")
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"{workdir / 'catalogue.yaml'}:17:13: error MON001 indicators.1.filter: ")
    assert "unknown column 'instrumnt'" in line
    assert cli("validate", "models", "--filters").returncode == 0


def test_validate_with_filters_binds_subgroups_over_the_panel(cli, mutate, workdir):
    path = mutate("    horizon_months: 12\n", "    horizon_months: 12\n    subgroup: \"age + 1\"\n")
    result = cli("validate", str(path), "--filters")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{path}:49:15: error MON001 expected_changes.1.subgroup: subgroup 'age + 1': expected a boolean expression "
        "(a condition such as exit_type = 'assisted_return'); got an expression of type INTEGER"
    )


def test_shipped_catalogue_has_the_indicators_and_outcomes_the_models_need():
    from logicmodel.loading import load_catalogue

    catalogue = load_catalogue(REPO / "models" / "indicators.yaml")
    assert set(catalogue.outcome_ids) >= {
        "assisted_return_6m", "assisted_return_12m", "forced_return_12m", "unknown_address_12m",
        "application_6m", "hscl10_change_3m", "hscl10_change_6m",
    }
    assert set(catalogue.indicator_ids) >= {
        "participants", "sessions_attended", "completion_share", "hscl10_mean", "hscl10_caseness_share",
        "mi_importance_mean", "applications_per_100", "assisted_returns_per_100", "assisted_returns_per_100_12m",
        "forced_returns_per_100", "unknown_address_per_100", "months_in_reception_mean", "cost_per_participant",
    }
    caseness = catalogue.indicator("hscl10_caseness_share")
    assert caseness.condition == "total >= 1.85" and caseness.direction == "lower_is_better"
    assert catalogue.indicator("assisted_returns_per_100_12m").window_months == 12
