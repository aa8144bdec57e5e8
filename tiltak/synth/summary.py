"""A short account of the generated registers next to the published magnitudes."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.config import MEASURES
from tiltak.synth.registers import SyntheticRegisters

PUBLISHED = (
    "Published (domain.md): assisted returns 1,400-1,900 a year (2010-2014); forced returns "
    "of former asylum seekers about 1,300 (2013); about 1 in 5 residents left with unknown "
    "address; 5,700 obliged to leave in centres at the end of 2013, 3,300 at the end of 2014."
)
HEADLINE_OUTCOMES = ("assisted_return_12m", "hscl10_change_6m")
"""Outcomes whose true ATT the summary shows (all are in ``truth_effects``)."""
EXIT_COLUMNS = ("assisted_return", "forced_return", "unknown_address", "independent_return", "permit", "other")


@dataclass(frozen=True)
class SynthSummary:
    """Stock, exits per year, participation and costs per measure, and the true effects."""

    stock_start: int
    stock_end: int
    years: pd.DataFrame        # year, months, mean stock, exits by type, applications, disappearance share
    measures: pd.DataFrame     # measure, participants, completed, total cost, cost per participant
    truth: pd.DataFrame        # measure, outcome, estimand, true ATT, parameter
    uptake: float
    eligible: int

    def to_text(self) -> str:
        lines = [f"Obliged to leave in centres: {self.stock_start:,} at the start, {self.stock_end:,} at the end.",
                 "", "Exits per year by type (disappearance share = unknown address / mean stock):",
                 self.years.to_string(index=False, float_format=lambda v: f"{v:.2f}"), "",
                 f"Participants per measure (uptake {100 * self.uptake:.1f} % of {self.eligible:,} eligible people):",
                 self.measures.to_string(index=False, float_format=lambda v: f"{v:,.0f}"), "",
                 "True effects (ATT among participants; all outcomes in truth_effects):",
                 self.truth.to_string(index=False, float_format=lambda v: f"{v:.3f}"), "", PUBLISHED]
        return "\n".join(lines)

    def to_html(self) -> str:
        """The same content as HTML tables (escaped by pandas)."""

        parts = [f"<p>Obliged to leave in centres: {self.stock_start:,} at the start, "
                 f"{self.stock_end:,} at the end.</p>",
                 self.years.to_html(index=False, float_format=lambda v: f"{v:.2f}"),
                 f"<p>Uptake {100 * self.uptake:.1f} % of {self.eligible:,} eligible people.</p>",
                 self.measures.to_html(index=False, float_format=lambda v: f"{v:,.0f}"),
                 self.truth.to_html(index=False, float_format=lambda v: f"{v:.3f}"),
                 f"<p>{html.escape(PUBLISHED)}</p>"]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def monthly_stock(decisions: pd.DataFrame, exits: pd.DataFrame, months: pd.DatetimeIndex) -> np.ndarray:
    """People obliged to leave and still in a centre on the first day of each month."""
    decided = np.sort(decisions["decision_date"].to_numpy("datetime64[D]"))
    left = np.sort(exits["exit_date"].to_numpy("datetime64[D]"))
    first = months.to_numpy("datetime64[D]")
    return np.searchsorted(decided, first, side="left") - np.searchsorted(left, first, side="right")


def _years(reg: SyntheticRegisters, first: pd.DatetimeIndex) -> pd.DataFrame:
    t = reg.tables
    stock = pd.Series(monthly_stock(t["decisions"], t["exits"], first), index=first.year)
    exits = pd.crosstab(t["exits"]["exit_date"].dt.year, t["exits"]["exit_type"])
    exits = exits.reindex(columns=list(EXIT_COLUMNS), fill_value=0)
    applications = t["applications"]["application_date"].dt.year.value_counts()
    frame = pd.DataFrame({"months": stock.groupby(level=0).size(), "mean_stock": stock.groupby(level=0).mean()})
    frame = frame.join(exits).fillna(0)
    frame["applications"] = applications.reindex(frame.index, fill_value=0)
    frame["disappearance_share"] = frame["unknown_address"] / frame["mean_stock"]
    frame = frame.astype({c: "int64" for c in EXIT_COLUMNS + ("months", "applications")})
    return frame.rename_axis("year").reset_index()


def _measures(reg: SyntheticRegisters) -> pd.DataFrame:
    part, costs = reg.tables["participation"], reg.tables["costs"]
    rows = []
    for code in MEASURES:
        p = part[part["measure"] == code]
        total = float(costs.loc[costs["measure"] == code, "amount_nok"].sum())
        rows.append({"measure": code, "participants": len(p), "completed": int(p["completed"].fillna(False).sum()),
                     "cost_nok": total, "cost_per_participant_nok": total / len(p) if len(p) else float("nan")})
    return pd.DataFrame(rows)


def summarise(reg: SyntheticRegisters) -> SynthSummary:
    """Build the summary from the tables and the truth (computes nothing random)."""
    cfg = reg.config
    first = pd.date_range(cfg.start + "-01", periods=cfg.months, freq="MS")
    end = first[-1] + pd.offsets.MonthBegin(1)
    stock = monthly_stock(reg.tables["decisions"], reg.tables["exits"], pd.DatetimeIndex([first[0], end]))
    effects = reg.truth_effects
    headline = effects["outcome"].isin(HEADLINE_OUTCOMES)
    truth = effects.loc[headline & effects["true_att"].notna(),
                        ["measure", "outcome", "estimand", "true_att", "parameter", "parameter_value"]]
    return SynthSummary(stock_start=int(stock[0]), stock_end=int(stock[1]), years=_years(reg, first),
                        measures=_measures(reg), truth=truth,
                        uptake=float(reg.diagnostics["uptake"]), eligible=int(reg.diagnostics["eligible_persons"]))
