"""One model's design run: the matchings, censoring weights and estimates it shares.

:class:`DesignRun` is created per model by ``estimate_model``; it matches the shared pool
(register outcomes without a subgroup) once, fits the censoring weights once per matching,
and estimates each expected change under each estimand requested.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from estimation.balance import balance_table
from estimation.effects import estimate_att
from estimation.errors import EstimationError
from estimation.gcomputation import estimate_att_interactions
from estimation.riskset import RiskSetMatching
from logicmodel.model import ExpectedChange, LogicModel
from tiltak.evaluation.censoring import INTERVALS, UnitCensoringWeights, fit_censoring_weights
from tiltak.evaluation.curves import RegisterEffect, register_effect
from tiltak.evaluation.design_estimate import DesignEstimate
from tiltak.evaluation.estimate_errors import estimate_errors, published_error
from tiltak.evaluation.evidence import EffectEvidence
from tiltak.evaluation.followup import CENSORED, EVENT
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.riskset_data import RiskSetFrame
from tiltak.evaluation.sensitivity import e_value_difference, e_value_ratio, gamma_for, register_set_outcomes
from tiltak.evaluation.summaries import balance_terms, overlap, weighted_mean
from tiltak.evaluation.trials import MatchedTrials, matched_sample_of, matched_units
from tiltak.evaluation.verdicts import VerdictRules

POWER = 0.8
FAMILY_ALPHA = 0.05


@dataclass(frozen=True)
class _Match:
    """A fitted risk-set matching (or why there is none), with the frame rows it used."""

    data: Any
    sample: Any = None
    rows: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    strata: Any = None


#: The ``RiskSetMatching`` parameter of each key of the design settings (``design_settings``).
MATCHER_KEYS = ("method", "ratio", "replace", "caliper", "std_caliper", "distance", "order", "mahvars",
                "antiexact", "reuse_max", "min_controls", "max_controls", "subclasses", "min_n", "cutpoints",
                "weights", "trim", "moments", "k2k", "k2k_method")


def match_pool(data: pd.DataFrame, settings: dict[str, Any], seed: int) -> _Match:
    """Risk-set matching of the pool with the design's settings (errors become ``error``)."""


    n_treated, n_control = int(data["treated"].sum()), int((~data["treated"]).sum())
    if n_treated < 2 or n_control < 2 or not settings["covariates"]:
        return _Match(data, error="no covariates" if not settings["covariates"]
                      else "too few participants or comparison persons with this outcome")
    covariates, extra = settings["covariates"], settings["exact"][1:]
    keys = {k: settings[k] for k in MATCHER_KEYS if k in settings}
    if settings.get("covariate_calipers"):
        keys["caliper"] = {**({"distance": settings["caliper"]} if settings["caliper"] is not None else {}),
                           **settings["covariate_calipers"]}
    matcher = RiskSetMatching(id="person_id", period="period", enrolled="treated", covariates=covariates,
                              exact=extra or None, random_state=seed, **keys)
    columns = ["person_id", "period", "treated", *covariates, *[e for e in extra if e not in covariates]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            matcher.fit(data[columns])
        except estimate_errors() as exc:
            return _Match(data, error=str(exc).splitlines()[0])
    messages = tuple(sorted({_stratum_free(str(w.message).splitlines()[0]) for w in caught}))
    return _Match(data, matcher.result_, matcher.rows_["row"].to_numpy(), None, messages, matcher.strata_)


def _stratum_free(message: str) -> str:
    """A matching warning without the values of the exact stratum it names (one note for all)."""

    return re.sub(r" (in )?exact stratum [^:;]*", " in some risk sets", message)


class DesignRun:
    """Estimates of one model's tested changes, sharing matchings and censoring weights."""

    def __init__(self, con: Any, model: LogicModel, rs: RiskSetFrame, settings: dict[str, Any],
                 rules: VerdictRules, seed: int, n_tests: int, curve_change: str | None = None) -> None:
        self.con, self.model, self.rs, self.settings = con, model, rs, settings
        self.rules, self.seed, self.curve_change = rules, seed, curve_change
        self.n_tests = max(int(n_tests), 1)
        self.alpha_adjusted = FAMILY_ALPHA / self.n_tests
        self._pools: dict[Any, tuple[_Match, MatchedTrials | None]] = {}
        self._censoring: dict[Any, UnitCensoringWeights] = {}
        self._reaches: dict[Any, dict] = {}  # per pool: the trials reaching each horizon (curves.reach)
        self._balances: dict[Any, list] = {}  # per pool and threshold: (weights' bytes, balance table)
        self.notes = tuple(f"covariate '{c}' is not in the registers (all null) and was left out"
                           for c in rs.dropped_covariates)

    # -- pools ---------------------------------------------------------------------------
    def _pool_key(self, change: ExpectedChange, spec: OutcomeSpec) -> Any:
        if spec.binary and not change.subgroup:
            return "shared"
        return (spec.id if not spec.binary else "register", change.id if change.subgroup else None)

    def _pool(self, change: ExpectedChange, spec: OutcomeSpec) -> tuple[_Match, MatchedTrials | None]:
        key = self._pool_key(change, spec)
        if key not in self._pools:
            frame = self.rs.frame
            keep = np.ones(len(frame), dtype=bool)
            if not spec.binary:
                keep &= frame[f"y_{spec.id}"].notna().to_numpy()
            if change.subgroup:
                keep &= frame[f"sg_{change.id}"].to_numpy(dtype=bool)
            data = frame.loc[keep].reset_index(drop=True)
            match = match_pool(data, self.settings, self.seed)
            trials = None if match.error else matched_units(match.data, match.sample, match.rows,
                                                            self.seed, match.strata)
            self._pools[key] = (match, trials)
        return self._pools[key]

    def _censoring_for(self, key: Any, trials: MatchedTrials) -> UnitCensoringWeights:
        if key not in self._censoring:
            self._censoring[key] = fit_censoring_weights(self.con, trials, self.rs.data_end,
                                                         tuple(self.settings["covariates"]), INTERVALS)
        return self._censoring[key]

    def _pool_balance(self, key: Any, sample: Any, rules: VerdictRules) -> Any:
        """The balance table of the pool's sample with these weights, once for weights that are the
        same bit for bit (outcomes of one horizon censored alike share them)."""
        weights = np.asarray(sample.weights, dtype=float).tobytes()
        done = self._balances.setdefault((key, rules.balance_threshold), [])
        for seen, balance in done:
            if seen == weights:
                return balance
        balance = _balance(sample, rules)
        done.append((weights, balance))
        return balance

    # -- estimates -----------------------------------------------------------------------
    def estimate(self, change: ExpectedChange, spec: OutcomeSpec, estimand: str):
        rules = self.rules
        if change.balance_threshold is not None:
            rules = dataclasses.replace(rules, balance_threshold=change.balance_threshold)
        match, trials = self._pool(change, spec)
        base = dict(model_id=self.model.id, change_id=change.id, outcome=spec, design=self.settings,
                    estimand=estimand, notes=self.notes + match.warnings)
        error = match.error
        if error is None:
            try:
                if spec.binary:
                    return self._register(change, spec, estimand, trials, rules, base)
                return self._survey(change, spec, estimand, trials, rules, base)
            except estimate_errors() as exc:
                error = str(exc).splitlines()[0]
        data = match.data
        evidence = EffectEvidence(spec.id, None, n_treated=int(data["treated"].sum()),
                                  n_control=int((~data["treated"]).sum()), outcome_kind=spec.kind,
                                  estimand=estimand)
        error = published_error(error, self.model.monitoring.disclosure.min_count)
        return DesignEstimate(evidence=evidence, error=error, **base)

    def _register(self, change, spec, estimand, trials, rules, base):
        key = self._pool_key(change, spec)
        censoring = self._censoring_for(key, trials) if estimand == "enrol_vs_not" else None
        covariates = list(self.settings["covariates"])
        shared = self._reaches.setdefault(key, {})
        result = register_effect(trials, spec, estimand, self.rs.data_end, censoring, covariates, shared=shared)
        if result is None or result.effect.n_treated < 2:
            raise _no_follow_up(spec)
        grid = None
        if change.id == self.curve_change:
            grid = register_effect(trials, spec, estimand, self.rs.data_end, censoring, covariates, grid=True,
                                   shared=shared).effect
        effect = result.effect
        used = result.trials
        weights = np.bincount(trials.units["row"].to_numpy(), weights=result.balance_weights,
                              minlength=len(np.asarray(trials.sample.treat)))
        sample = dataclasses.replace(trials.sample, weights=weights)
        balance = self._pool_balance(key, sample, rules)
        est, se = float(effect.estimate[-1]), float(effect.std_error[-1])
        treated_mean, control_mean = float(effect.treated[-1]), float(effect.control[-1])
        risk_ratio = treated_mean / control_mean if control_mean > 0 else None
        gamma, sens_notes = self._gamma(trials, result, spec, est, shared)
        evidence = self._evidence(spec, estimand, used, est, se, float(effect.ci_low[-1]), float(effect.ci_high[-1]),
                                  float(effect.p_value[-1]), balance, gamma, _e_value_rr(risk_ratio),
                                  treated_mean, control_mean, change, adjusted=result.adjusted)
        trials_info = self._trials_info(trials, result, censoring, spec)
        return DesignEstimate(
            evidence=evidence, balance_terms=balance_terms(balance), overlap=overlap(sample),
            ess_control=_ess(weights[~np.asarray(sample.treat, bool)]), risk_ratio=risk_ratio,
            odds_ratio=_odds_ratio(treated_mean, control_mean), trials=trials_info,
            curve=_curve_dict(grid) if grid is not None else None,
            **{**base, "notes": base["notes"] + result.notes + tuple(sens_notes)})

    def _survey(self, change, spec, estimand, trials, rules, base):

        units = trials.units
        rows = units["row"].to_numpy()
        notes: list[str] = []
        if estimand == "enrol_vs_not":
            start = pd.to_datetime(trials.data["later_start"].iloc[rows]).to_numpy(dtype="datetime64[D]")
            follow = pd.to_datetime(trials.data[f"yd_{spec.id}"].iloc[rows]).to_numpy(dtype="datetime64[D]")
            censored = ~units["treated"].to_numpy() & ~np.isnat(start) & (start <= follow)
            if censored.any():
                n = int(censored.sum())  # a published count: below the model's threshold it is not said
                min_count = self.model.monitoring.disclosure.min_count
                how_many = str(n) if n >= min_count else f"fewer than {min_count}"
                notes.append(f"{how_many} comparison persons started the measure before the "
                             "follow-up survey and were left out (censored)")
                trials = _drop_units(trials, ~censored)
                units, rows = trials.units, trials.units["row"].to_numpy()
        y = trials.data[f"y_{spec.id}"].to_numpy(dtype=float)
        sample = trials.sample
        if units["treated"].sum() < 2 or (~units["treated"]).sum() < 2:
            raise _too_few()
        persons = pd.factorize(trials.data["person_id"])[0]
        effect = survey_effect(sample, y, list(self.settings["covariates"]), persons)
        balance = _balance(sample, rules)
        treat, matched = np.asarray(sample.treat, bool), np.asarray(sample.weights) > 0
        sd = float(np.std(y[~treat & matched], ddof=1)) if (~treat & matched).sum() > 1 else float("nan")

        if sample.structure in ("strata", "weights"):
            gamma, sens_notes = None, [no_matched_sets(self.settings["method"])]
        else:
            gamma, sens_notes = gamma_for(sample, y, False, float(effect.estimate))
        used = trials
        evidence = self._evidence(spec, estimand, used, float(effect.estimate), float(effect.std_error),
                                  float(effect.ci_low), float(effect.ci_high), float(effect.p_value), balance,
                                  gamma, e_value_difference(float(effect.estimate), sd),
                                  weighted_mean(y, sample.weights, treat & matched),
                                  weighted_mean(y, sample.weights, ~treat & matched), change, adjusted=True)
        info = {"n_trials": int(units["trial"].nunique()), "weights": "matched participants per trial",
                "covariate_adjustment": ("regression of the comparison outcome on the covariates"
                                         if sample.structure == "strata" else "regression on the covariates"),
                "n_controls_left_before_index_date": trials.n_controls_left_before,
                "n_treated_without_controls": trials.n_treated_without_controls,
                "n_participants_not_eligible": self.rs.n_not_eligible}
        return DesignEstimate(
            evidence=evidence, balance_terms=balance_terms(balance), overlap=overlap(sample),
            ess_control=_f(effect.ess_control), trials=info,
            **{**base, "notes": base["notes"] + tuple(notes) + tuple(sens_notes)})

    # -- pieces --------------------------------------------------------------------------
    def _evidence(self, spec, estimand, trials, est, se, low, high, p, balance, gamma, e_value,
                  treated_mean, control_mean, change, adjusted: bool = False) -> EffectEvidence:
        units = trials.units
        treated = units["treated"].to_numpy()
        trial = units["trial"].to_numpy()
        periods = trial[treated].astype("datetime64[M]")  # the participants' trial months
        data = trials.data
        in_trials = np.isin(data["month"].to_numpy(), np.unique(trial))
        return EffectEvidence(
            outcome=spec.id, att=_f(est), ci_low=_f(low), ci_high=_f(high), se=_f(se), p_value=_f(p),
            mde=_mde(se, self.alpha_adjusted),
            n_treated=int((data["treated"].to_numpy() & in_trials).sum()),
            n_control=int((~data["treated"].to_numpy() & in_trials).sum()),
            n_treated_matched=int(treated.sum()), n_control_matched=int((~treated).sum()),
            max_abs_smd=_f(balance.max_abs_smd_after), max_abs_smd_before=_f(balance.max_abs_smd_before),
            gamma=gamma, e_value=e_value,
            period_start=str(periods.min()) if len(periods) else None,
            period_end=str(periods.max()) if len(periods) else None,
            outcome_kind=spec.kind, treated_mean=_f(treated_mean), control_mean=_f(control_mean),
            estimand=estimand, alpha_adjusted=self.alpha_adjusted, n_tests=self.n_tests, adjusted=adjusted,
        )

    def _gamma(self, trials: MatchedTrials, result: RegisterEffect, spec: OutcomeSpec, est: float,
               shared: dict):
        """Rosenbaum's Gamma on the event by the horizon, for comparison units whose outcome is known.

        Pairs, k:1 and full-matching sets alike: a comparison person shared by several participants
        (full matching) takes the outcome of one of their start dates, drawn with the run's seed.
        ``shared``: the pool's dict of ``curves.reach``, which also keeps the sets of each horizon.
        """

        if trials.sample.structure in ("strata", "weights"):
            return None, [no_matched_sets(self.settings["method"])]
        if self.settings["replace"]:
            return None, ["sensitivity analysis not available with replacement (a comparison person "
                          "has one outcome per index date)"]
        fu = result.followup
        horizon = float(spec.months)
        y_unit = ((fu.event == EVENT) & (fu.time < horizon)).astype(float)
        known = (fu.event != CENSORED) | (fu.time >= horizon - 1e-9)
        reached, sub = _reached_sets(trials, result, spec.months, shared)
        usable = (known & (result.balance_weights > 0))[reached]
        sample, y = register_set_outcomes(sub, y_unit[reached], usable, self.seed)
        return gamma_for(sample, y, True, est)

    def _trials_info(self, trials: MatchedTrials, result: RegisterEffect, censoring, spec) -> dict[str, Any]:
        units = trials.units
        fu = result.followup
        controls = ~units["treated"].to_numpy()
        censored = controls & (fu.event == CENSORED) & (fu.time < spec.months - 1e-9)
        info = {"n_trials": result.n_trials, "weights": "matched participants per trial",
                "covariate_adjustment": "calibrated comparison weights" if result.adjusted else None,
                "n_controls_left_before_index_date": trials.n_controls_left_before,
                "n_treated_without_controls": trials.n_treated_without_controls,
                "n_participants_not_eligible": self.rs.n_not_eligible,
                "n_controls_censored_at_start": int((censored & np.isin(
                    units["trial"].to_numpy(), result.trials.units["trial"].unique())).sum())}
        if censoring is not None:
            info["censoring_weights"] = censoring.summary
        return info


def _reached_sets(trials: MatchedTrials, result: RegisterEffect, months: int, shared: dict):
    """(units of the trials the effect used, those trials' matched sets), once per horizon of a pool."""

    key = ("sets", int(months))
    if key not in shared:
        reached = np.isin(trials.units["trial"].to_numpy(), result.trials.units["trial"].unique())
        shared[key] = (reached, trials.restrict(reached))
    return shared[key]


def _too_few() -> Exception:

    return EstimationError("too few matched participants with this outcome observed")


def _no_follow_up(spec: OutcomeSpec) -> Exception:

    return EstimationError(f"no trial can be followed for {spec.months} months within the data")


def survey_effect(sample: Any, y: np.ndarray, covariates: list[str], persons: np.ndarray) -> Any:
    """The ATT on a survey outcome, clustered on the person (and the matched set of pairs and sets).

    After subclassification or CEM the control-outcome regression
    (``estimation.estimate_att_interactions``, MatchIt's advice): a common-slope regression
    leaves a bias of (common slope - control slope) x the imbalance left within the strata when
    the effect varies with a covariate (benchmarks/validate_methods.py: subclass ATT -4.1 and
    CEM ATT -6.7 Monte Carlo SEs). Otherwise the regression on the covariates (``estimate_att``).
    """

    if sample.structure == "strata":
        return estimate_att_interactions(sample, y, sample.covariates[covariates], cluster=persons)
    cluster = [persons, "subclass"] if sample.structure in ("pairs", "sets") else persons
    return estimate_att(dataclasses.replace(sample, weight_model=None), y, covariates=covariates, cluster=cluster)


def no_matched_sets(method: str) -> str:
    """The note of a method without matched sets: Rosenbaum's bounds are not defined."""
    return (f"Rosenbaum bounds not available for {METHOD_WORDS.get(method, method)} (there are no matched "
            "sets); the E-value is given")


METHOD_WORDS = {"subclass": "subclassification", "cem": "coarsened exact matching", "weighting": "weighting"}


def _drop_units(trials: MatchedTrials, keep: np.ndarray) -> MatchedTrials:
    """Drop units and rescale the comparison weights of each group to its participants.

    For pairs and sets this recomputes the weights 1/k of the sets that lost comparison units;
    for strata and weights the kept comparison weights keep their proportions.
    """

    units = trials.units.loc[np.asarray(keep, bool)].copy()
    controls = ~units["treated"]
    n_treated = units.loc[~controls].groupby("group")["row"].size()
    total = units.loc[controls].groupby("group")["weight"].transform("sum")
    units.loc[controls, "weight"] = (units.loc[controls, "weight"] / total
                                     * units.loc[controls, "group"].map(n_treated).fillna(0.0))
    with_controls = set(units.loc[controls, "group"])
    units = units[~units["treated"] | units["group"].isin(with_controls)].reset_index(drop=True)
    return dataclasses.replace(trials, units=units, sample=matched_sample_of(trials.sample, units))


def _balance(sample: Any, rules: VerdictRules) -> Any:

    return balance_table(sample, covariates=list(sample.covariates.columns), threshold=rules.balance_threshold)


def _mde(se: float, alpha: float) -> float | None:
    if not (se == se and se > 0):
        return None
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(POWER)
    return float(z * se)


def _ess(w: np.ndarray) -> float | None:
    w = w[w > 0]
    return float(w.sum() ** 2 / np.sum(w ** 2)) if w.size else None


def _odds_ratio(p1: float, p0: float) -> float | None:
    if not (0 < p1 < 1 and 0 < p0 < 1):
        return None
    return float(p1 / (1 - p1) / (p0 / (1 - p0)))


def _e_value_rr(rr: float | None) -> float | None:

    return e_value_ratio(rr)


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _curve_dict(effect: Any) -> dict[str, Any]:
    """The two curves on the monthly grid with the counts the disclosure rule needs."""
    return {
        "months": [int(round(h)) for h in effect.horizons],
        "treated": [float(v) for v in effect.treated],
        "control": [float(v) for v in effect.control],
        "control_low": [float(v - 1.959963984540054 * s) for v, s in zip(effect.control, effect.control_se)],
        "control_high": [float(v + 1.959963984540054 * s) for v, s in zip(effect.control, effect.control_se)],
        "n_risk_treated": [int(v) for v in effect.n_risk_treated],
        "n_risk_control": [int(v) for v in effect.n_risk_control],
        "events_treated": [int(v) for v in effect.events_treated],
        "events_control": [int(v) for v in effect.events_control],
    }
