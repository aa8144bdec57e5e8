"""The person-period frame of risk-set matching, built from the store.

People enrol in a measure in different months. For each month ``t`` the risk set holds:

* the *treated*: people whose first enrolment in the measure falls in ``t`` and who are in
  the person-month panel in ``t`` (obliged to leave, resident, not exited);
* the *candidates*: people in the panel in ``t`` who have not enrolled in the measure by
  then (they may enrol later: risk-set matching compares enrolling now with not yet).

Only months in which someone enrolled form risk sets (other months have no one to match).

Covariates are the panel's columns in month ``t``. Outcomes are measured from ``t``
(see :class:`~tiltak.evaluation.outcomes.OutcomeSpec`); an outcome whose follow-up window
ends after the last month in the data is missing (administrative censoring), so each
outcome is estimated on the index months with complete follow-up. The frame carries the
pseudonymous ``person_id`` because risk-set matching uses a control person at most once;
it never leaves the process (only aggregates are written or reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiltak.errors import TiltakError
from tiltak.evaluation.outcomes import OutcomeSpec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ALWAYS = ("period",)
NOT_COVARIATES = {"person_id", "month", "period", "measure", "participating", "enrolled", "exit_type", "applied"}


class RiskSetDataError(TiltakError):
    """The store cannot give the data a design asks for."""


@dataclass(frozen=True)
class RiskSetFrame:
    """The stacked risk sets of one measure, with the outcome columns ``y_<outcome id>``."""

    frame: "pd.DataFrame"
    measure: str
    covariates: tuple[str, ...]
    dropped_covariates: tuple[str, ...]
    n_enrolled: int
    n_treated: int
    first_period: str | None
    last_period: str | None


def _quote(value: str) -> str:
    from monitoring.expressions import quote_literal

    return quote_literal(str(value))


def _window(months: int) -> str:
    return f"pm.month + INTERVAL {int(months)} MONTH"


def outcome_sql(spec: OutcomeSpec) -> str:
    """The SQL expression of one outcome over the panel alias ``pm`` (null when censored)."""
    end = _window(spec.months)
    censored = f"{end} > b.data_end"
    if spec.kind == "exit_within":
        types = ", ".join(_quote(t) for t in spec.exit_types) or "NULL"
        hit = f"ex.exit_type IN ({types}) AND ex.exit_date >= pm.month AND ex.exit_date < {end}"
        return f"CASE WHEN {censored} THEN NULL WHEN {hit} THEN 1.0 ELSE 0.0 END"
    if spec.kind == "application_within":
        programme = _quote(spec.programme or "assisted_return")
        hit = (f"EXISTS (SELECT 1 FROM applications a WHERE a.person_id = pm.person_id AND a.programme = {programme} "
               f"AND a.application_date >= pm.month AND a.application_date < {end})")
        return f"CASE WHEN {censored} THEN NULL WHEN {hit} THEN 1.0 ELSE 0.0 END"
    return _survey_change_sql(spec)


def _survey_change_sql(spec: OutcomeSpec) -> str:
    """Follow-up score (months k-1..k+1 after the index month, never before the month after
    it, nearest to month k) minus the baseline (latest score in the month before or the
    index month)."""
    instrument = _quote(spec.instrument or "")
    k = int(spec.months)
    base = (f"(SELECT arg_max(s.total, s.survey_date) FROM surveys s WHERE s.person_id = pm.person_id "
            f"AND s.instrument = {instrument} AND s.total IS NOT NULL "
            f"AND s.survey_date >= pm.month - INTERVAL 1 MONTH AND s.survey_date < pm.month + INTERVAL 1 MONTH)")
    follow = (f"(SELECT arg_min(s.total, abs(date_diff('day', s.survey_date, CAST(pm.month + INTERVAL {k} MONTH AS DATE)))) "
              f"FROM surveys s WHERE s.person_id = pm.person_id AND s.instrument = {instrument} AND s.total IS NOT NULL "
              f"AND s.survey_date >= pm.month + INTERVAL {max(k - 1, 1)} MONTH AND s.survey_date < pm.month + INTERVAL {k + 2} MONTH)")
    return f"{follow} - {base}"


def panel_columns(con: Any) -> dict[str, str]:
    """The columns of the person-month panel and their DuckDB types."""
    try:
        rows = con.execute("DESCRIBE person_month").fetchall()
    except Exception as exc:  # duckdb.CatalogException and friends
        raise RiskSetDataError(
            "the store has no person-month panel (table 'person_month'); load registers first with "
            f"'tiltak load' or 'tiltak synth' ({type(exc).__name__})"
        ) from None
    return {str(r[0]): str(r[1]) for r in rows}


def check_covariates(covariates: tuple[str, ...], columns: dict[str, str], where: str,
                     key: str = "evaluation.covariates") -> None:
    """Every covariate must be a panel column that describes the person (not the outcome)."""
    allowed = sorted(set(columns) - NOT_COVARIATES)
    for i, name in enumerate(covariates):
        if name not in allowed:
            raise RiskSetDataError(
                f"{where}{key}.{i}: unknown covariate {name!r}; expected one of "
                + ", ".join(repr(a) for a in allowed)
            )


def _frame_sql(measure: str, covariates: tuple[str, ...], outcomes: tuple[OutcomeSpec, ...],
               subgroups: dict[str, str]) -> str:
    cov = "".join(f', pm."{c}"' for c in covariates)
    ys = "".join(f', {outcome_sql(o)} AS "y_{o.id}"' for o in outcomes)
    from monitoring.expressions import render  # screened and quoted in one place; bound when loaded

    sgs = "".join(f', coalesce(({render(expr, "person_month", "pm")}), FALSE) AS "sg_{key}"' for key, expr in subgroups.items())
    return f"""
    WITH first_enrol AS (
        SELECT person_id, min(date_trunc('month', start_date))::DATE AS enrol_month
        FROM participation WHERE measure = {_quote(measure)} GROUP BY person_id),
    first_exit AS (
        SELECT person_id, arg_min(exit_type, exit_date) AS exit_type, min(exit_date) AS exit_date
        FROM exits WHERE exit_date IS NOT NULL GROUP BY person_id),
    b AS (SELECT max(month) + INTERVAL 1 MONTH AS data_end FROM person_month)
    SELECT pm.person_id, pm.period, (fe.enrol_month IS NOT NULL AND fe.enrol_month = pm.month) AS treated{cov}{ys}{sgs}
    FROM person_month pm
    CROSS JOIN b
    LEFT JOIN first_enrol fe ON fe.person_id = pm.person_id
    LEFT JOIN first_exit ex ON ex.person_id = pm.person_id
    WHERE (fe.enrol_month IS NULL OR fe.enrol_month >= pm.month)
      AND pm.month IN (SELECT enrol_month FROM first_enrol)
    ORDER BY pm.month, pm.person_id
    """


def build_risk_sets(
    con: Any, measure: str, covariates: tuple[str, ...], outcomes: tuple[OutcomeSpec, ...],
    subgroups: dict[str, str] | None = None, where: str = "", exact: tuple[str, ...] = (),
) -> RiskSetFrame:
    """Stack the monthly risk sets of ``measure`` with covariates and outcome columns.

    Covariates that are null in every row (optional special-category columns not supplied)
    are left out and listed in ``dropped_covariates``. ``exact`` columns (exact matching)
    are selected too. ``subgroups`` maps a key to an SQL filter over the panel; each gives a
    boolean column ``sg_<key>``.
    """
    columns = panel_columns(con)
    check_covariates(covariates, columns, where)
    check_covariates(exact, columns, where, "evaluation.matching.exact")
    present = _non_null_columns(con, covariates)
    kept = tuple(c for c in covariates if c in present)
    extra = tuple(e for e in dict.fromkeys(exact) if e not in kept)
    sql = _frame_sql(measure, kept + extra, outcomes, subgroups or {})
    try:
        frame = con.execute(sql).df()
    except Exception as exc:
        raise RiskSetDataError(f"{where}risk sets of measure {measure!r} could not be built "
                               f"(the database failed: {type(exc).__name__}; values are not shown)") from None
    n_enrolled = con.execute(
        f"SELECT count(DISTINCT person_id) FROM participation WHERE measure = {_quote(measure)}"
    ).fetchone()[0]
    periods = frame.loc[frame["treated"], "period"] if len(frame) else frame.get("period", [])
    return RiskSetFrame(
        frame=frame, measure=measure, covariates=kept,
        dropped_covariates=tuple(c for c in covariates if c not in present),
        n_enrolled=int(n_enrolled), n_treated=int(frame["treated"].sum()) if len(frame) else 0,
        first_period=min(periods) if len(periods) else None, last_period=max(periods) if len(periods) else None,
    )


def _non_null_columns(con: Any, covariates: tuple[str, ...]) -> set[str]:
    if not covariates:
        return set()
    counts = con.execute(
        "SELECT " + ", ".join(f'count("{c}")' for c in covariates) + " FROM person_month"
    ).fetchone()
    return {c for c, n in zip(covariates, counts) if n}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
