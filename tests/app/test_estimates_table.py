"""The store's ``estimates`` table: versioned (component 'estimates'), migrated, merged per model."""

from __future__ import annotations

import duckdb

from monitoring.store import Store
from tiltak.evaluation.estimate import DesignEstimate
from tiltak.evaluation.estimates_table import COLUMNS, merge_estimates
from tiltak.evaluation.evidence import EffectEvidence
from tiltak.evaluation.outcomes import OutcomeSpec

OUTCOME = OutcomeSpec("ret", "exit_within", 12, "ret", exit_types=("assisted_return",))
OLD_COLUMNS = ("model_id", "change_id", "measure", "outcome", "outcome_kind", "att", "se", "ci_low", "ci_high",
               "p_value", "mde", "n_treated", "n_control", "n_treated_matched", "n_control_matched",
               "max_abs_smd_before", "max_abs_smd_after", "gamma", "e_value", "risk_ratio", "odds_ratio",
               "period_start", "period_end", "ratio", "replace", "caliper", "error")


def estimate(model: str, change: str, estimand: str, att: float) -> DesignEstimate:
    evidence = EffectEvidence("ret", att, -0.1, 0.1, se=0.05, p_value=0.5, estimand=estimand, p_value_holm=1.0,
                              n_tests=2)
    return DesignEstimate(model, change, OUTCOME, evidence, {"ratio": 3, "replace": False, "caliper": 0.2},
                          estimand=estimand, trials={"n_trials": 24})


def test_an_unversioned_table_is_migrated_and_old_rows_kept(tmp_path):
    db = tmp_path / "s.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE estimates (" + ", ".join(
        f'"{c}" {"DOUBLE" if c in ("att", "se") else "VARCHAR"}' for c in OLD_COLUMNS) + ")")
    con.execute("INSERT INTO estimates (model_id, change_id, att) VALUES ('other', 'x', 0.5)")
    con.close()
    with Store.open(db) as store:
        merge_estimates(store, {"m": [estimate("m", "a", "enrol_vs_not", 0.01),
                                      estimate("m", "a", "enrol_now_vs_later", 0.02)]}, {"m": "VV"})
        con = store.connect()
        versions = dict(con.execute("SELECT component, max(version) FROM schema_version GROUP BY 1").fetchall())
        assert versions["estimates"] == 1
        columns = [r[0] for r in con.execute("DESCRIBE estimates").fetchall()]
        assert set(columns) == set(COLUMNS)
        rows = con.execute("SELECT model_id, change_id, estimand, att, n_trials FROM estimates "
                           "ORDER BY model_id, estimand").fetchall()
    assert rows == [("m", "a", "enrol_now_vs_later", 0.02, 24), ("m", "a", "enrol_vs_not", 0.01, 24),
                    ("other", "x", None, 0.5, None)]  # the old row keeps a null estimand


def test_running_a_model_again_replaces_only_its_rows(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        merge_estimates(store, {"m": [estimate("m", "a", "enrol_vs_not", 0.01)],
                                "n": [estimate("n", "b", "enrol_vs_not", 0.03)]}, {"m": "VV", "n": "KVL"})
        merge_estimates(store, {"m": [estimate("m", "a", "enrol_vs_not", 0.04)]}, {"m": "VV"})
        rows = store.connect().execute("SELECT model_id, att FROM estimates ORDER BY 1").fetchall()
    assert rows == [("m", 0.04), ("n", 0.03)]
