"""The ``estimates`` table of the store: one row per model, tested expected change and estimand.

Running a model again replaces that model's rows; other models' rows are kept. The table
holds aggregates only (estimates, intervals, sample sizes, balance and sensitivity).

The table is versioned as the store component ``estimates`` (``schema_version``):

* version 1 — one row per (model_id, change_id, estimand) with the estimand, the
  Holm-adjusted p-value, the number of tested changes of the model and the number of
  trials. A store written before (an unversioned ``estimates`` table without these
  columns) is migrated in place: the columns are added and the old rows keep
  ``estimand`` null (they come from the design before issue 9: follow-up from the first day
  of the index month, comparison persons who started later kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitoring.migrations import Migration, register_migration

from tiltak.evaluation.estimate import DesignEstimate

COLUMNS = (
    "model_id", "change_id", "estimand", "measure", "outcome", "outcome_kind", "att", "se", "ci_low", "ci_high",
    "p_value", "p_value_holm", "n_tests", "mde", "n_treated", "n_control", "n_treated_matched",
    "n_control_matched", "max_abs_smd_before", "max_abs_smd_after", "gamma", "e_value", "risk_ratio",
    "odds_ratio", "period_start", "period_end", "n_trials", "ratio", "replace", "caliper", "error",
)
TYPES = {
    "model_id": "VARCHAR", "change_id": "VARCHAR", "estimand": "VARCHAR", "measure": "VARCHAR", "outcome": "VARCHAR",
    "outcome_kind": "VARCHAR", "att": "DOUBLE", "se": "DOUBLE", "ci_low": "DOUBLE", "ci_high": "DOUBLE",
    "p_value": "DOUBLE", "p_value_holm": "DOUBLE", "n_tests": "BIGINT", "mde": "DOUBLE", "n_treated": "BIGINT",
    "n_control": "BIGINT", "n_treated_matched": "BIGINT", "n_control_matched": "BIGINT",
    "max_abs_smd_before": "DOUBLE", "max_abs_smd_after": "DOUBLE", "gamma": "DOUBLE", "e_value": "DOUBLE",
    "risk_ratio": "DOUBLE", "odds_ratio": "DOUBLE", "period_start": "VARCHAR", "period_end": "VARCHAR",
    "n_trials": "BIGINT", "ratio": "BIGINT", "replace": "BOOLEAN", "caliper": "DOUBLE", "error": "VARCHAR",
}
NEW_IN_1 = ("estimand", "p_value_holm", "n_tests", "n_trials")


def _migrate_1(con: Any) -> None:
    """Create the table, or add the columns of version 1 to an unversioned one."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                         "AND table_name = 'estimates'").fetchone()[0]
    if not exists:
        con.execute("CREATE TABLE estimates (" + ", ".join(f'"{c}" {TYPES[c]}' for c in COLUMNS) + ")")
        return
    have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'main' AND table_name = 'estimates'").fetchall()}
    for column in COLUMNS:
        if column not in have:
            con.execute(f'ALTER TABLE estimates ADD COLUMN "{column}" {TYPES[column]}')


MIGRATION = Migration("estimates", 1, "estimates per model, expected change and estimand; Holm-adjusted p-values",
                      apply=_migrate_1)
register_migration(MIGRATION)


def estimate_row(est: DesignEstimate, measure: str | None) -> dict[str, Any]:
    ev = est.evidence
    get = (lambda name: getattr(ev, name)) if ev is not None else (lambda name: None)
    return {
        "model_id": est.model_id, "change_id": est.change_id, "estimand": est.estimand, "measure": measure,
        "outcome": est.outcome.id, "outcome_kind": est.outcome.kind, "att": get("att"), "se": get("se"),
        "ci_low": get("ci_low"), "ci_high": get("ci_high"), "p_value": get("p_value"),
        "p_value_holm": get("p_value_holm"), "n_tests": get("n_tests"), "mde": get("mde"),
        "n_treated": get("n_treated"), "n_control": get("n_control"), "n_treated_matched": get("n_treated_matched"),
        "n_control_matched": get("n_control_matched"), "max_abs_smd_before": get("max_abs_smd_before"),
        "max_abs_smd_after": get("max_abs_smd"), "gamma": get("gamma"), "e_value": get("e_value"),
        "risk_ratio": est.risk_ratio, "odds_ratio": est.odds_ratio, "period_start": get("period_start"),
        "period_end": get("period_end"), "n_trials": (est.trials or {}).get("n_trials"),
        "ratio": est.design.get("ratio"), "replace": est.design.get("replace"),
        "caliper": est.design.get("caliper"), "error": est.error,
    }


def estimates_frame(results: Mapping[str, Sequence[DesignEstimate]], measures: Mapping[str, str | None]):
    import pandas as pd

    rows = [estimate_row(e, measures.get(model_id)) for model_id, ests in results.items() for e in ests]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name, kind in TYPES.items():
        if kind == "DOUBLE":
            frame[name] = frame[name].astype("float64")
        elif kind == "BIGINT":
            frame[name] = frame[name].astype("Int64")
        elif kind == "BOOLEAN":
            frame[name] = frame[name].astype("boolean")
        else:
            frame[name] = frame[name].astype("object")
    return frame.sort_values(["model_id", "change_id", "estimand"], kind="stable").reset_index(drop=True)


def merge_estimates(store: Any, results: Mapping[str, Sequence[DesignEstimate]], measures: Mapping[str, str | None]) -> int:
    """Replace the rows of these models in ``estimates``; returns the rows written for them."""
    store.migrate()
    new = estimates_frame(results, measures)
    con = store.connect()
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    with store.transaction():
        con.register("_new_estimates", new)
        try:
            con.execute("DELETE FROM estimates WHERE model_id IN (SELECT DISTINCT model_id FROM _new_estimates)")
            for model_id in results:
                con.execute("DELETE FROM estimates WHERE model_id = ?", [model_id])
            con.execute(f"INSERT INTO estimates ({columns}) SELECT {columns} FROM _new_estimates")
        finally:
            con.unregister("_new_estimates")
    return len(new)
