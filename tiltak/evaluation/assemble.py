"""Assemble the evaluation document of several models from the store and the estimates.

Per model: verdicts on every expected change, monitored indicators against expectations,
contribution analysis (links, pathways, story), unit costs and cost per additional
outcome. Across models: the cost comparison, data-quality notes and disclosure settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tiltak import __version__
from tiltak.evaluation.contribution import IndicatorEvidence, analyse
from tiltak.evaluation.costs import cost_per_outcome, measure_unit_costs
from tiltak.evaluation.document import (
    SCHEMA,
    clean,
    contribution_entry,
    costs_entry,
    error_entry,
    estimand_entry,
    estimate_entry,
    notes_entries,
    publish_count,
    return_curve,
    verdict_entry,
)
from tiltak.evaluation.estimate import DesignEstimate
from tiltak.evaluation.model_reads import change_spec, model_estimand, model_title
from tiltak.evaluation.indicator_series import indicator_entries
from tiltak.evaluation.store_reads import (
    centre_names,
    cost_by_centre,
    data_period,
    participants_by_centre,
    participants_total,
)
from tiltak.evaluation.trajectories import period_position
from tiltak.evaluation.verdicts import Verdict, VerdictKind, VerdictRules, judge
from tiltak_base.catalogue import message, term


def _verdicts(item: Any, estimates: Sequence[DesignEstimate], rules: VerdictRules) -> list[Verdict]:
    estimand = model_estimand(item.model)
    by_change = {e.change_id: None if e.error else e.evidence for e in estimates if e.estimand == estimand}
    return [judge(change_spec(c), by_change.get(c.id), rules) for c in item.model.expected_changes]


def _delivery(n: int | None, first: str | None, last: str | None) -> dict[str, Any] | None:
    if n is None:
        return None
    return message("story.delivery", n=int(n), first=first or "–", last=last or "–")


def _indicator_evidence(entries: Sequence[dict[str, Any]]) -> dict[str, IndicatorEvidence]:
    out = {}
    for e in entries:
        published = [p for p in e["points"] if p["value"] is not None and not p["suppressed"]]
        out[e["id"]] = IndicatorEvidence(e["id"], any(p["value"] > 0 for p in published), e.get("status"))
    return out


def _costs(con: Any, item: Any, estimates: Sequence[DesignEstimate], names: Mapping[str, str],
           verdicts: Sequence[Verdict]) -> dict[str, Any]:
    model, measure = item.model, item.model.measure
    disclosure = model.monitoring.disclosure
    overall, centres, spread = measure_unit_costs(
        measure, cost_by_centre(con, measure), participants_by_centre(con, measure), participants_total(con, measure),
        disclosure.min_count, disclosure.min_denominator, (disclosure.dominance_contributors, disclosure.dominance_share),
    )
    testable = {v.change.id: v.kind is not VerdictKind.NOT_TESTABLE for v in verdicts}
    per_outcome = [
        (cost_per_outcome(measure, e.evidence, overall.per_participant_nok, e.outcome.unit, e.outcome.direction,
                          testable.get(e.change_id, False)), e.outcome)
        for e in estimates
    ]
    return costs_entry(model, overall, centres, spread, per_outcome, names)


def _model_entry(con: Any, item: Any, estimates: Sequence[DesignEstimate], rules: VerdictRules,
                 names: Mapping[str, str], period: tuple[str | None, str | None],
                 indicators: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    model, min_count, estimand = item.model, item.model.monitoring.disclosure.min_count, model_estimand(item.model)
    verdicts = _verdicts(item, estimates, rules)
    if indicators is None:
        indicators = indicator_entries(con, item)
    analysis = analyse(model, verdicts, _indicator_evidence(indicators))
    n = publish_count(participants_total(con, model.measure), min_count)
    first = con.execute("SELECT strftime(min(start_date), '%Y-%m') FROM participation WHERE measure = ?",
                        [model.measure]).fetchone()[0]
    delivery = {"participants": n, "first_period": first, "last_period": period[1]}
    entries = [verdict_entry(model, v, item.outcomes.get(v.change.outcome or ""), min_count) for v in verdicts]
    _add_trajectory_reasons(entries, indicators)
    _add_estimation_errors(entries, estimates)
    return {
        "id": model.id, "title": model_title(model), "measure": model.measure, "source": item.path.name or None,
        "estimand": estimand_entry(estimand),
        "delivery": delivery,
        "verdict_counts": _counts(verdicts),
        "verdicts": entries,
        "estimates": [estimate_entry(e, min_count) for e in estimates],
        "return_curve": return_curve(model, [e for e in estimates if e.estimand == estimand], min_count),
        "contribution": contribution_entry(model, verdicts, analysis, _delivery(n, first, period[1])),
        "indicators": indicators,
        "costs": _costs(con, item, estimates, names, verdicts),
    }


def _add_trajectory_reasons(entries: list[dict[str, Any]], indicators: Sequence[dict[str, Any]]) -> None:
    """For changes judged on an indicator only: the latest observed-against-expected point."""
    by_id = {i["id"]: i for i in indicators}
    for entry in entries:
        series = by_id.get(entry["indicator"] or "")
        if not entry["outcome"] and series:
            entry["outcome_title"] = series["title"]
        if entry["outcome"] or not series or not series["comparisons"]:
            continue
        last = max(series["comparisons"], key=lambda c: period_position(c["period"]))  # the latest, target or not
        params = {"period": last["period"], "observed": last["observed"], "expected": last["expected"]}
        code = "trajectory"
        if series.get("not_compared_provisional"):  # said beside the comparison: later periods left out
            code, params["provisional"] = "trajectory_provisional", ", ".join(series["not_compared_provisional"])
        entry["reasons"].append({"code": code, "params": params})


def _add_estimation_errors(entries: list[dict[str, Any]], estimates: Sequence[DesignEstimate]) -> None:
    """Say why an estimate is missing (too few people, no matches, a design error)."""
    errors = {e.change_id: e.error for e in estimates if e.error}
    for entry in entries:
        error = errors.get(entry["change"])
        if error:
            entry["reasons"] = [error_entry(error)]


def _relative_costs(costs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each measure's cost per participant as a multiple of the cheapest published one."""
    published = [c["overall"]["per_participant_nok"] for c in costs if c["overall"]["per_participant_nok"]]
    cheapest = min(published, default=None)
    return [{**c, "relative_to_cheapest": (c["overall"]["per_participant_nok"] / cheapest
                                           if cheapest and c["overall"]["per_participant_nok"] else None)}
            for c in costs]


def _counts(verdicts: Sequence[Verdict]) -> list[list[Any]]:
    """How many expected changes got each verdict, in the order of the verdict scale."""

    kinds = [v.kind for v in verdicts]
    return [[k.value, kinds.count(k)] for k in VerdictKind if k in kinds]


QUALITY_CHECKS = ("QC001", "QC002", "QC003", "QC004", "QC005")
"""The checks the catalogues describe (``quality.QC00n``); any other: ``quality.other``."""


def _quality(con: Any, model_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Data-quality findings of the latest monitoring run, summarised by check.

    Only the check, its count, the indicators and the periods are shown: the findings'
    own messages can quote cell values, which are not disclosure-checked here.
    """
    try:
        rows = con.execute(
            """
            SELECT check_id, severity, count(*) AS n,
                   string_agg(DISTINCT indicator_id, ', ' ORDER BY indicator_id) AS indicators,
                   min(period) AS first, max(period) AS last
            FROM monitoring_quality
            WHERE run_id = (SELECT max(run_id) FROM monitoring_quality)
              AND (model_id IS NULL OR model_id IN (SELECT unnest(?)))
            GROUP BY 1, 2 ORDER BY 2, 1
            """,
            [list(model_ids)],
        ).fetchall()
    except Exception:  # no monitoring tables (a store that was never monitored)
        return []
    out = []
    for check, severity, n, indicators, first, last in rows:
        what = term(f"quality.{check}" if check in QUALITY_CHECKS else "quality.other")
        where = f" [{indicators}]" if indicators else ""
        span = f" {first}–{last}" if first else ""
        out.append(message("quality.line", severity=str(severity), check=str(check), n=int(n), span=span, what=what,
                           where=where))
    return out


def assemble_document(db: Path, inputs: Sequence[Any], estimates: Mapping[str, Sequence[DesignEstimate]],
                      rules: VerdictRules, indicators: Mapping[str, list[dict[str, Any]]] | None = None,
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The evaluation document and the context the report needs besides it (the models, by id).

    ``indicators``: a model's indicator entries already read from this store since monitoring
    ran (``indicator_entries``, as :class:`tiltak.early_charts.EarlyCharts` keeps them), used
    instead of reading them again."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        period = data_period(con)
        names = centre_names(con)
        given = indicators or {}
        models = [_model_entry(con, item, estimates.get(item.model.id, []), rules, names, period,
                               given.get(item.model.id)) for item in inputs]
        quality = _quality(con, [i.model.id for i in inputs])
    finally:
        con.close()
    notes = sorted({n for ests in estimates.values() for e in ests for n in e.notes})
    document = {
        "schema": SCHEMA,
        "tiltak_version": __version__,
        "data": {"store": db.name, "first_period": period[0], "last_period": period[1]},
        "settings": {"balance_threshold": rules.balance_threshold,
                     "adjusted_balance_threshold": max(rules.balance_threshold, rules.adjusted_balance_threshold),
                     "min_matched": rules.min_matched,
                     "min_gamma_robust": rules.min_gamma_robust, "confidence_level": 0.95, "power": 0.8,
                     "intervals": "unadjusted 95 %",
                     "multiplicity": {"method": "holm", "family": "the model's tested changes", "alpha": 0.05},
                     "variance": "two-way cluster-robust on person and matched set, matching held fixed"},
        "disclosure": {"min_count": min((i.model.monitoring.disclosure.min_count for i in inputs), default=5),
                       "min_denominator": min((i.model.monitoring.disclosure.min_denominator for i in inputs), default=10),
                       "dominance": {"contributors": 2, "share": 0.85}},
        "models": models,
        "cost_comparison": _relative_costs([m["costs"] for m in models]),
        "data_quality": quality,
        "estimation_notes": notes_entries(notes),
    }
    return clean(document), {"models": {i.model.id: i.model for i in inputs}}
