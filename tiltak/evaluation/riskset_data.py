"""The person-month frame of the target trials, built from the store.

One trial per calendar month ``t`` in which somebody started the measure for the first
time. A row is a person in the panel in month ``t`` who is *eligible on the first day of
the month*: obliged to leave since an earlier month (``months_since_decision >= 1``),
resident in a centre that offers the measure (somebody living there started it in the
month before, the month or the month after), not exited before it, never started this
measure before the month and starting no measure of any kind in the month, except:

* the *participants* (``treated``): whose first start of the measure falls in ``t``; their
  index date is their start date (they must still be present after it);
* the *comparison candidates*: everyone else eligible. They must not start this measure
  in month ``t`` (those who do are the trial's participants) and may start it later: the
  estimand decides whether that later start censors them (``enrol_vs_not``) or not
  (``enrol_now_vs_later``). A matched comparison person takes the participant's index date
  and must still be present after it (checked after matching, in
  :mod:`tiltak.evaluation.trials`).

Starting another measure *before* the month is allowed and recorded in the column
``prior_other_measure``, on which the trials are matched exactly; starting another measure
in the month itself is a treatment at time zero and excludes the person from the trial.

Covariates are the panel's columns of month ``t`` (the state at the start of the month,
before every index date in it). The follow-up columns (exit date and type, the first start
of the measure, the dates of applications) are turned into times on the evaluation's clock
per matched pair (:mod:`tiltak.evaluation.followup`). Survey-change outcomes are columns
``y_<outcome id>`` measured on the month clock (:func:`survey_change_sql`). The frame
carries the pseudonymous ``person_id`` because a person may be a comparison in several
trials and the variance is clustered on the person; it never leaves the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitoring.expressions import quote_literal, render
from tiltak.errors import TiltakError
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.query_frame import query_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NOT_COVARIATES = {"person_id", "month", "period", "measure", "participating", "enrolled", "exit_type", "applied"}
PRIOR_OTHER = "prior_other_measure"
"""Exact-matching column: started another measure before the trial month."""


class RiskSetDataError(TiltakError):
    """The store cannot give the data a design asks for."""


@dataclass(frozen=True)
class RiskSetFrame:
    """The stacked trials of one measure.

    ``frame`` has one row per eligible person and trial month, with ``treated``,
    ``index_date`` (participants' start dates), the covariates, ``prior_other_measure``,
    the follow-up columns ``exit_date``, ``exit_type``, ``later_start`` (first start of the
    measure after the month), ``applications`` (application dates of the programme, a list),
    survey outcome columns ``y_<id>`` and subgroup columns ``sg_<key>``. ``data_end`` is the
    day after the last day of the panel (administrative end of follow-up).
    ``n_not_eligible`` counts participants whose first start month is not a trial row
    (not in the panel, decided in that month, not resident on the first day, or another
    measure started the same month) or who left on their start date.
    """

    frame: "pd.DataFrame"
    measure: str
    covariates: tuple[str, ...]
    dropped_covariates: tuple[str, ...]
    n_enrolled: int
    n_treated: int
    n_not_eligible: int
    first_period: str | None
    last_period: str | None
    data_end: Any


def _quote(value: str) -> str:

    return quote_literal(str(value))


def survey_change_sql(spec: OutcomeSpec) -> str:
    """The survey change over the panel alias ``pm`` (null when a survey is missing).

    Follow-up score (months k-1..k+1 after the index month, never before the month after
    it, nearest to month k) minus the baseline (latest score in the month before or the
    index month).
    """
    instrument = _quote(spec.instrument or "")
    k = int(spec.months)
    base = (f"(SELECT arg_max(s.total, s.survey_date) FROM surveys s WHERE s.person_id = pm.person_id "
            f"AND s.instrument = {instrument} AND s.total IS NOT NULL "
            f"AND s.survey_date >= pm.month - INTERVAL 1 MONTH AND s.survey_date < pm.month + INTERVAL 1 MONTH)")
    follow = (f"(SELECT arg_min(s.total, abs(date_diff('day', s.survey_date, CAST(pm.month + INTERVAL {k} MONTH AS DATE)))) "
              f"FROM surveys s WHERE s.person_id = pm.person_id AND s.instrument = {instrument} AND s.total IS NOT NULL "
              f"AND s.survey_date >= pm.month + INTERVAL {max(k - 1, 1)} MONTH AND s.survey_date < pm.month + INTERVAL {k + 2} MONTH)")
    date = (f"(SELECT arg_min(s.survey_date, abs(date_diff('day', s.survey_date, CAST(pm.month + INTERVAL {k} MONTH AS DATE)))) "
            f"FROM surveys s WHERE s.person_id = pm.person_id AND s.instrument = {instrument} AND s.total IS NOT NULL "
            f"AND s.survey_date >= pm.month + INTERVAL {max(k - 1, 1)} MONTH AND s.survey_date < pm.month + INTERVAL {k + 2} MONTH)")
    return f"{follow} - {base}", date


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


def _frame_sql(measure: str, covariates: tuple[str, ...], surveys: tuple[OutcomeSpec, ...],
               subgroups: dict[str, str], programme: str) -> str:
    cov = "".join(f', pm."{c}"' for c in covariates)
    ys = "".join(f', {survey_change_sql(o)[0]} AS "y_{o.id}", {survey_change_sql(o)[1]} AS "yd_{o.id}"'
                 for o in surveys)

    sgs = "".join(f', coalesce(({render(expr, "person_month", "pm")}), FALSE) AS "sg_{key}"'
                  for key, expr in subgroups.items())
    m = _quote(measure)
    return f"""
    WITH first_start AS (
        SELECT person_id, min(start_date) AS start_date FROM participation
        WHERE measure = {m} GROUP BY person_id),
    other_start AS (
        SELECT DISTINCT person_id, CAST(date_trunc('month', start_date) AS DATE) AS month,
               start_date FROM participation WHERE measure <> {m}),
    trial_month AS (SELECT DISTINCT CAST(date_trunc('month', start_date) AS DATE) AS month FROM first_start),
    offered AS (
        -- a centre offers the measure in a month when somebody living there started it in
        -- that month, the month before or the month after
        SELECT DISTINCT o.centre_id, CAST(o.month + INTERVAL (k.shift) MONTH AS DATE) AS month
        FROM (SELECT DISTINCT pm2.centre_id, pm2.month FROM participation p2
              JOIN person_month pm2 ON pm2.person_id = p2.person_id
               AND pm2.month = CAST(date_trunc('month', p2.start_date) AS DATE)
              WHERE p2.measure = {m} AND pm2.centre_id IS NOT NULL) o
        CROSS JOIN (SELECT unnest([-1, 0, 1]) AS shift) k),
    first_exit AS (
        SELECT person_id, arg_min(exit_type, exit_date) AS exit_type, min(exit_date) AS exit_date
        FROM exits WHERE exit_date IS NOT NULL GROUP BY person_id),
    applied AS (
        SELECT person_id, list(application_date ORDER BY application_date) AS applications
        FROM applications WHERE programme = {_quote(programme)} GROUP BY person_id)
    SELECT pm.person_id, pm.period, pm.month,
           (fs.start_date IS NOT NULL AND date_trunc('month', fs.start_date) = pm.month) AS treated,
           CASE WHEN date_trunc('month', fs.start_date) = pm.month THEN fs.start_date END AS index_date,
           EXISTS (SELECT 1 FROM other_start o WHERE o.person_id = pm.person_id AND o.month < pm.month)
               AS {PRIOR_OTHER}{cov},
           ex.exit_date, ex.exit_type,
           CASE WHEN fs.start_date >= pm.month + INTERVAL 1 MONTH THEN fs.start_date END AS later_start,
           ap.applications{ys}{sgs}
    FROM person_month pm
    JOIN trial_month tm ON tm.month = pm.month
    LEFT JOIN first_start fs ON fs.person_id = pm.person_id
    LEFT JOIN first_exit ex ON ex.person_id = pm.person_id
    LEFT JOIN applied ap ON ap.person_id = pm.person_id
    WHERE (fs.start_date IS NULL OR fs.start_date >= pm.month)
      AND pm.months_since_decision >= 1
      AND (ex.exit_date IS NULL OR ex.exit_date > pm.month)
      -- the offering centres first: DuckDB checks the correlated conditions in this order,
      -- and this one leaves about a tenth of the rows for the residence check
      AND EXISTS (SELECT 1 FROM offered f WHERE f.centre_id = pm.centre_id AND f.month = pm.month)
      AND NOT EXISTS (SELECT 1 FROM other_start o WHERE o.person_id = pm.person_id AND o.month = pm.month)
      AND EXISTS (SELECT 1 FROM residence r WHERE r.person_id = pm.person_id AND r.date_from <= pm.month
                  AND (r.date_to IS NULL OR r.date_to > pm.month))
    ORDER BY pm.month, pm.person_id
    """


def build_risk_sets(
    con: Any, measure: str, covariates: tuple[str, ...], outcomes: tuple[OutcomeSpec, ...],
    subgroups: dict[str, str] | None = None, where: str = "", exact: tuple[str, ...] = (),
) -> RiskSetFrame:
    """Stack the trials of ``measure`` with covariates, follow-up and survey outcome columns.

    Covariates that are null in every row (optional special-category columns not supplied)
    are left out and listed in ``dropped_covariates``. ``exact`` columns (exact matching)
    are selected too. ``subgroups`` maps a key to an SQL filter over the panel; each gives a
    boolean column ``sg_<key>``.
    """
    columns = panel_columns(con)
    check_covariates(covariates, columns, where)
    check_covariates(exact, columns, where, "evaluation.matching.exact")
    for needed in ("months_since_decision",):
        if needed not in columns:
            raise RiskSetDataError(f"the person-month panel has no column {needed!r}; rebuild it with 'tiltak load'")
    present = _non_null_columns(con, covariates)
    kept = tuple(c for c in covariates if c in present)
    extra = tuple(e for e in dict.fromkeys(exact) if e not in kept)
    surveys = tuple(o for o in outcomes if o.kind == "survey_change")
    programmes = {o.programme or "assisted_return" for o in outcomes if o.kind == "application_within"}
    if len(programmes) > 1:
        raise RiskSetDataError(f"{where}outcomes of one model may name one application programme; got "
                               + ", ".join(sorted(programmes)))
    sql = _frame_sql(measure, kept + extra, surveys, subgroups or {}, next(iter(programmes), "assisted_return"))
    try:
        frame = query_frame(con, sql)
    except Exception as exc:
        raise RiskSetDataError(f"{where}risk sets of measure {measure!r} could not be built "
                               f"(the database failed: {type(exc).__name__}; values are not shown)") from None
    frame = _drop_left_on_start(frame)
    return _result(con, frame, measure, covariates, kept, present)


def _drop_left_on_start(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Participants must still be present after their start date (as comparison persons must)."""
    left = frame["treated"] & frame["exit_date"].notna() & (frame["exit_date"] <= frame["index_date"])
    return frame.loc[~left.to_numpy()].reset_index(drop=True)


def _result(con: Any, frame: "pd.DataFrame", measure: str, covariates: tuple[str, ...], kept: tuple[str, ...],
            present: set[str]) -> RiskSetFrame:
    n_enrolled = int(con.execute(
        f"SELECT count(DISTINCT person_id) FROM participation WHERE measure = {_quote(measure)}").fetchone()[0])
    data_end = con.execute("SELECT CAST(max(month) + INTERVAL 1 MONTH AS DATE) FROM person_month").fetchone()[0]
    treated = frame["treated"].to_numpy(dtype=bool) if len(frame) else None
    periods = frame.loc[treated, "period"] if len(frame) else []
    n_treated = int(treated.sum()) if len(frame) else 0
    return RiskSetFrame(
        frame=frame, measure=measure, covariates=kept,
        dropped_covariates=tuple(c for c in covariates if c not in present),
        n_enrolled=n_enrolled, n_treated=n_treated, n_not_eligible=max(n_enrolled - n_treated, 0),
        first_period=min(periods) if len(periods) else None, last_period=max(periods) if len(periods) else None,
        data_end=data_end,
    )


def _non_null_columns(con: Any, covariates: tuple[str, ...]) -> set[str]:
    if not covariates:
        return set()
    counts = con.execute(
        "SELECT " + ", ".join(f'count("{c}")' for c in covariates) + " FROM person_month"
    ).fetchone()
    return {c for c, n in zip(covariates, counts) if n}
