"""The ``estimates`` table of the store: one row per model and tested expected change.

Running a model again replaces that model's rows; other models' rows are kept. The table
holds aggregates only (estimates, intervals, sample sizes, balance and sensitivity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tiltak.evaluation.estimate import DesignEstimate

COLUMNS = (
    "model_id", "change_id", "measure", "outcome", "outcome_kind", "att", "se", "ci_low", "ci_high", "p_value",
    "mde", "n_treated", "n_control", "n_treated_matched", "n_control_matched", "max_abs_smd_before",
    "max_abs_smd_after", "gamma", "e_value", "risk_ratio", "odds_ratio", "period_start", "period_end",
    "ratio", "replace", "caliper", "error",
)


def estimate_row(est: DesignEstimate, measure: str | None) -> dict[str, Any]:
    ev = est.evidence
    get = (lambda name: getattr(ev, name)) if ev is not None else (lambda name: None)
    return {
        "model_id": est.model_id, "change_id": est.change_id, "measure": measure, "outcome": est.outcome.id,
        "outcome_kind": est.outcome.kind, "att": get("att"), "se": get("se"), "ci_low": get("ci_low"),
        "ci_high": get("ci_high"), "p_value": get("p_value"), "mde": get("mde"), "n_treated": get("n_treated"),
        "n_control": get("n_control"), "n_treated_matched": get("n_treated_matched"),
        "n_control_matched": get("n_control_matched"), "max_abs_smd_before": get("max_abs_smd_before"),
        "max_abs_smd_after": get("max_abs_smd"), "gamma": get("gamma"), "e_value": get("e_value"),
        "risk_ratio": est.risk_ratio, "odds_ratio": est.odds_ratio, "period_start": get("period_start"),
        "period_end": get("period_end"), "ratio": est.design.get("ratio"), "replace": est.design.get("replace"),
        "caliper": est.design.get("caliper"), "error": est.error,
    }


def estimates_frame(results: Mapping[str, Sequence[DesignEstimate]], measures: Mapping[str, str | None]):
    import pandas as pd

    rows = [estimate_row(e, measures.get(model_id)) for model_id, ests in results.items() for e in ests]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in ("att", "se", "ci_low", "ci_high", "p_value", "mde", "max_abs_smd_before", "max_abs_smd_after",
                 "gamma", "e_value", "risk_ratio", "odds_ratio", "caliper"):
        frame[name] = frame[name].astype("float64")
    for name in ("n_treated", "n_control", "n_treated_matched", "n_control_matched", "ratio"):
        frame[name] = frame[name].astype("Int64")
    frame["replace"] = frame["replace"].astype("boolean")
    for name in ("model_id", "change_id", "measure", "outcome", "outcome_kind", "period_start", "period_end", "error"):
        frame[name] = frame[name].astype("object")
    return frame


def merge_estimates(store: Any, results: Mapping[str, Sequence[DesignEstimate]], measures: Mapping[str, str | None]) -> int:
    """Replace the rows of these models in ``estimates``; returns the rows written for them."""
    import pandas as pd

    new = estimates_frame(results, measures)
    con = store.connect()
    if "estimates" in store.tables():
        old = con.execute("SELECT * FROM estimates").df()
        if list(old.columns) == list(COLUMNS):
            kept = old[~old["model_id"].isin(list(results))]
            new = pd.concat([estimates_frame({}, {}).astype(new.dtypes.to_dict()), kept.astype(new.dtypes.to_dict()), new],
                            ignore_index=True) if len(kept) else new
    new = new.sort_values(["model_id", "change_id"], kind="stable").reset_index(drop=True)
    store.write_auxiliary_table("estimates", new)
    return sum(len(v) for v in results.values())
