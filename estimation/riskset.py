"""Risk-set matching for staggered enrolment: a sequence of target trials.

People enrol in a measure in different periods. Each person who enrols in period t is
compared with people *at risk* in t who have not enrolled by then, with covariates measured
in t (Li, Propert and Rosenbaum 2001; Hernan and Robins' sequence of target trials, one per
period). The input is a long frame of candidate person-periods: one row per person and
period at risk, a flag that is true in the period the person enrols, and the covariates of
that period. Rows of a person after the first enrolment are not at risk and are dropped.

The propensity score (the hazard of enrolling in a period given the covariates) is fitted
on all person-periods at risk; matching is :class:`NearestNeighborMatching` on that score,
exact on the period (and on any other ``exact`` columns), with the treated person-periods
in the chosen order across all periods. ``method`` chooses another method, always for the
ATT and always within the risk sets (the strata of the period and the ``exact`` columns):

* ``"optimal"`` / ``"full"``: :class:`OptimalMatching` / :class:`FullMatching` on the same
  score with the risk sets as exact strata (each solved separately);
* ``"subclass"``: :class:`Subclassification` of the score within each risk set;
* ``"cem"``: :class:`CoarsenedExactMatching` on the covariates, with the period and the
  ``exact`` columns matched exactly (one coarsening for all periods);
* ``"weighting"``: :class:`PropensityWeighting` (``weights="ipw"``, the pooled score) or
  :class:`EntropyBalancing` (``weights="ebal"``) within each risk set.

``strata_`` gives the risk set of every row of ``result_``; for subclassification and CEM
the subclasses are numbered across all risk sets (a subclass never spans two). The trials are matched independently of each
other: without replacement a person is used at most once *per trial* and may be a control
in several trials; with ``replace=True`` a control may serve several treated units of its
trial. A person who enrols later may serve as a control in an earlier trial, as the design
allows (they had not enrolled then). Because one person can appear in several trials,
standard errors must be clustered on the person (and the matched set).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from estimation import optimal
from estimation.cem import CoarsenedExactMatching, k2k_pairs, pair_matrix
from estimation.covdistance import COVARIATE_DISTANCES
from estimation.ebal import EntropyBalancing
from estimation.errors import EstimationError
from estimation.matched import MatchedSample
from estimation.matching import NearestNeighborMatching, NoMatchesError
from estimation.nearest_settings import NearestSettings, check_nearest
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    Parameters,
)
from estimation.propensity import PropensityScore, check_two_groups, treatment_vector
from estimation.strata import subclass_weights
from estimation.subclassification import Subclassification
from estimation.weighting import PropensityWeighting

NAME = "RiskSetMatching"


class RiskSetWarning(UserWarning):
    """Some risk sets could not be matched or weighted by the chosen method."""

METHODS = ("nearest", "optimal", "full", "subclass", "cem", "weighting")
DISTANCES = ("glm", "logit", *COVARIATE_DISTANCES)


class RiskSetMatching(Parameters):
    """Nearest-neighbour matching within risk sets of person-periods.

    Parameters
    ----------
    id, period, enrolled : str
        Columns with the person identifier, the period (any sortable values: ``YYYY-MM``
        strings, dates, integers) and the flag that is true in the enrolment period.
    covariates : list of str or None
        Propensity-model covariates (default: every other column).
    ratio, replace, caliper, std_caliper, distance, exact, order, discard, random_state,
    estimator, ties, mahvars, antiexact, reuse_max
        As for :class:`NearestNeighborMatching`; ``exact`` adds columns to the period;
        ``ties`` defaults to MatchIt's default call (``"matchit"``), as everywhere else;
        ``caliper`` may be a dict with calipers on covariates (``{"distance": 0.2, "age": 5}``).
    method : str
        ``"nearest"`` (default), ``"optimal"``, ``"full"``, ``"subclass"``, ``"cem"`` or
        ``"weighting"`` (see above); always the ATT.
    min_controls, max_controls
        Variable-ratio nearest/optimal matching, or full matching's limits.
    subclasses, min_n
        Subclassification's number of subclasses per risk set and minimum units per group.
    cutpoints, k2k, k2k_method
        CEM's coarsening (a rule, or a dict per covariate) and its one-to-one matching
        within the strata, as for :class:`CoarsenedExactMatching`.
    weights, trim, moments
        Weighting: ``"ipw"`` (with ``trim``) or ``"ebal"`` (with ``moments``).

    After ``fit(frame)``: ``result_`` (a MatchedSample over the person-periods at risk, in
    input order of the kept rows), ``rows_`` (data frame with the person, the period and
    the input row position of each of those rows), ``n_dropped_`` (rows after enrolment).

    >>> import numpy as np, pandas as pd
    >>> from estimation import RiskSetMatching
    >>> rng = np.random.default_rng(3)
    >>> people = pd.DataFrame({"person_id": np.arange(60), "age": rng.normal(40, 10, 60).round()})
    >>> frame = people.merge(pd.DataFrame({"period": [1, 2, 3]}), how="cross")
    >>> frame["enrolled"] = (frame["period"] == 1 + frame["person_id"] % 6) & (frame["person_id"] % 3 == 0)
    >>> matching = RiskSetMatching(covariates=["age"], exact=["period"]).fit(frame)
    >>> sample = matching.result_
    >>> int(sample.treat.sum()), sample.match_matrix.shape, matching.n_dropped_
    (10, (10, 1), 20)
    """

    def __init__(self, id: str = "person_id", period: str = "period", enrolled: str = "enrolled",
                 covariates: list[str] | None = None, ratio: int = 1, replace: bool = False,
                 caliper: float | None = None, std_caliper: bool = True, distance: str = "glm",
                 exact: list[str] | None = None, order: str | None = None, discard: str = "none",
                 random_state: int | None = None, estimator: Any = None, ties: str = "matchit",
                 method: str = "nearest", mahvars: list[str] | None = None,
                 antiexact: list[str] | None = None, reuse_max: int | None = None,
                 min_controls: float | None = None, max_controls: float | None = None,
                 subclasses: int = 6, min_n: int = 1, cutpoints: Any = "sturges",
                 weights: str = "ipw", trim: float | None = None, moments: int = 1,
                 k2k: bool = False, k2k_method: str | None = "mahalanobis"):
        self.id = id
        self.period = period
        self.enrolled = enrolled
        self.covariates = covariates
        self.ratio = ratio
        self.replace = replace
        self.caliper = caliper
        self.std_caliper = std_caliper
        self.distance = distance
        self.exact = exact
        self.order = order
        self.discard = discard
        self.random_state = random_state
        self.estimator = estimator
        self.ties = ties
        self.method = method
        self.mahvars = mahvars
        self.antiexact = antiexact
        self.reuse_max = reuse_max
        self.min_controls = min_controls
        self.max_controls = max_controls
        self.subclasses = subclasses
        self.min_n = min_n
        self.cutpoints = cutpoints
        self.weights = weights
        self.trim = trim
        self.moments = moments
        self.k2k = k2k
        self.k2k_method = k2k_method

    def _params(self) -> NearestSettings:
        if self.method not in METHODS:
            raise InvalidParameterError(NAME, "method", f"a str among {set(METHODS)}", self.method)
        if self.distance not in DISTANCES:
            raise InvalidParameterError(NAME, "distance", f"a str among {set(DISTANCES)}",
                                        self.distance)
        if self.method != "nearest" and self.distance not in ("glm", "logit"):
            raise InvalidParameterError(NAME, "distance", "'glm' or 'logit' (the covariate "
                                        f"distances are for method 'nearest')", self.distance)
        if self.weights not in ("ipw", "ebal"):
            raise InvalidParameterError(NAME, "weights", "a str among {'ipw', 'ebal'}", self.weights)
        nearest = self.method == "nearest"
        nn = NearestNeighborMatching(
            ratio=self.ratio, replace=self.replace, caliper=self.caliper,
            std_caliper=self.std_caliper, distance=self.distance, exact=self.exact,
            order=self.order, discard=self.discard, random_state=self.random_state,
            ties=self.ties, mahvars=self.mahvars, antiexact=self.antiexact,
            reuse_max=self.reuse_max, min_controls=self.min_controls if nearest else None,
            max_controls=self.max_controls if nearest else None)
        try:
            return check_nearest(nn.get_params(deep=False), self.distance)
        except InvalidParameterError as exc:
            raise InvalidParameterError(NAME, exc.parameter, exc.expected, exc.value) from None

    def _columns(self, frame: pd.DataFrame, exact: list[str]) -> list[str]:
        keys = [self.id, self.period, self.enrolled]
        covariates = (list(self.covariates) if self.covariates is not None
                      else [c for c in frame.columns if c not in keys])
        wanted = [*keys, *covariates, *exact]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            have = ", ".join(repr(str(c)) for c in frame.columns)
            raise InvalidInputError(f"Column '{missing[0]}' is not in the person-period frame; "
                                    f"columns are {have}.")
        if not covariates:
            raise InvalidInputError("No covariates for the propensity model: the frame has no "
                                    "column besides the person, period and enrolment flag.")
        return covariates

    def fit(self, frame: pd.DataFrame) -> RiskSetMatching:
        """Build the risk sets, fit the score, match; results in ``result_`` and ``rows_``."""
        p = self._params()
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInputError("RiskSetMatching.fit expects a pandas DataFrame of "
                                    f"person-periods; got {type(frame).__name__}.")
        covariates = self._columns(frame, list(p.exact))
        kept = at_risk(frame, self.id, self.period, self.enrolled)
        self.n_dropped_ = int(len(frame) - kept.size)
        data = frame.iloc[kept].reset_index(drop=True)
        treat = treatment_vector(data[self.enrolled].to_numpy(), len(data))
        check_two_groups(treat)
        model = PropensityScore(estimator=self.estimator).fit(data[covariates], treat)
        self.propensity_ = model
        exact = [self.period, *[e for e in p.exact if e != self.period]]
        self.strata_ = data.groupby(exact, sort=True, dropna=False).ngroup().to_numpy()
        score = model.distance("glm" if self.distance not in ("glm", "logit") else self.distance)
        result = self._match(data, treat, covariates, exact, p, score)
        settings = {**result.settings, "method": self.method, "distance": self.distance,
                    "exact": exact, "design": "risk set"}
        self.result_ = dataclasses.replace(result, covariates=data[covariates].reset_index(drop=True),
                                           settings=settings)
        self.rows_ = pd.DataFrame({self.id: data[self.id].to_numpy(),
                                   self.period: data[self.period].to_numpy(), "row": kept})
        return self

    def _match(self, data: pd.DataFrame, treat: np.ndarray, covariates: list[str],
               exact: list[str], p: NearestSettings, score: np.ndarray) -> MatchedSample:
        """The method's MatchedSample over all rows at risk (the ATT, within the risk sets)."""

        calipered = [name for name, _, _ in p.covariate_calipers]
        columns = list(dict.fromkeys([*covariates, *exact, *p.mahvars, *p.antiexact, *calipered]))
        if self.method == "nearest":
            distance = score if self.distance in ("glm", "logit") else self.distance
            # a covariate distance is computed on the covariates (not the period or exact columns)
            mahvars = list(p.mahvars) or (None if self.distance in ("glm", "logit") else list(covariates))
            matcher = NearestNeighborMatching(
                ratio=p.ratio, replace=p.replace, caliper=self.caliper, std_caliper=self.std_caliper,
                distance=distance, exact=exact, order=p.order, discard=p.discard,
                random_state=p.random_state, ties=p.ties, mahvars=mahvars,
                antiexact=list(p.antiexact) or None, reuse_max=self.reuse_max,
                min_controls=p.min_controls, max_controls=p.max_controls)
            return matcher.fit(data[columns], treat).result_
        if self.method in ("optimal", "full"):
            common = dict(caliper=p.caliper, std_caliper=p.std_caliper, distance=score, exact=exact,
                          discard=p.discard, min_controls=self.min_controls, max_controls=self.max_controls)
            # within a caliper, a risk set may not have controls for every participant: match as
            # many as it can (nearest-neighbour's rule), rather than refuse the whole design
            matcher = (optimal.OptimalMatching(ratio=self.ratio, match_most=p.caliper is not None, **common)
                       if self.method == "optimal"
                       else optimal.FullMatching(estimand="ATT", **common))
            return matcher.fit(data[columns], treat).result_
        if self.method == "cem":
            return self._cem(data, treat, covariates, exact)
        return self._by_stratum(data, treat, covariates, score)

    def _cem(self, data: pd.DataFrame, treat: np.ndarray, covariates: list[str],
             exact: list[str]) -> MatchedSample:

        cuts = self.cutpoints if isinstance(self.cutpoints, dict) else {c: self.cutpoints for c in covariates}
        cuts = {**{c: cuts.get(c, "sturges") for c in covariates}, **{e: 0 for e in exact}}
        frame = data[list(dict.fromkeys([*covariates, *exact]))].copy()
        for e in exact:  # exact columns as categories (CEM matches them on their levels)
            frame[e] = frame[e].astype(str)
        if self.k2k:  # the pairs' distance is on the covariates, not on the exact columns
            result = CoarsenedExactMatching(cutpoints=cuts, estimand="ATT").fit(frame, treat).result_

            sub = k2k_pairs(data[covariates].reset_index(drop=True), treat, np.asarray(result.subclass), treat,
                            self.k2k_method)
            result = dataclasses.replace(result, subclass=sub, weights=subclass_weights(sub, treat, "ATT"),
                                         match_matrix=pair_matrix(sub, treat), structure="pairs",
                                         settings={**result.settings, "k2k": True, "k2k_method": self.k2k_method})
        else:
            result = CoarsenedExactMatching(cutpoints=cuts, estimand="ATT").fit(frame, treat).result_
        return dataclasses.replace(result, covariates=data[covariates].reset_index(drop=True))

    def _by_stratum(self, data: pd.DataFrame, treat: np.ndarray, covariates: list[str],
                    score: np.ndarray) -> MatchedSample:
        """Subclassification or weighting fitted in each risk set, put together."""

        n = len(data)
        weights, subclass = np.zeros(n), np.full(n, -1, dtype=np.int64)
        e = np.clip(self.propensity_.distance("glm"), 1e-12, 1 - 1e-12)
        offset, failed, reduced = 0, [], 0
        for s in np.unique(self.strata_):
            rows = np.flatnonzero(self.strata_ == s)
            t = treat[rows]
            if not t.any() or t.all():
                continue
            X = data.iloc[rows][covariates].reset_index(drop=True)
            try:
                if self.method == "subclass":
                    r = self._subclassify(X, t, e[rows])
                    reduced += int(r.settings["subclasses"] < self.subclasses)
                elif self.weights == "ipw":
                    r = PropensityWeighting(estimand="ATT", trim=self.trim, distance=e[rows]).fit(X, t).result_
                else:
                    r = EntropyBalancing(estimand="ATT", moments=self.moments).fit(X, t).result_
            except EstimationError as exc:
                failed.append(str(exc).splitlines()[0])
                continue
            weights[rows] = r.weights
            if self.method == "subclass":
                sc = np.asarray(r.subclass)
                subclass[rows] = np.where(sc >= 0, sc + offset, -1)
                offset += int(sc.max()) + 1 if (sc >= 0).any() else 0
        if not (weights[treat] > 0).any():
            raise NoMatchesError(f"No risk set could be {'subclassified' if self.method == 'subclass' else 'weighted'}"
                                 + (f": {failed[0]}" if failed else ""))  # an error: published_error screens it
        self.failed_strata_ = len(failed)
        if reduced:
            warnings.warn(f"{reduced} of {len(np.unique(self.strata_))} risk sets have too few participants or "
                          f"comparison persons for {self.subclasses} subclasses and were cut into fewer",
                          RiskSetWarning, stacklevel=3)
        self.failed_reasons_ = tuple(failed)
        if failed:  # the reasons stay in failed_reasons_: they may carry small counts of people
            why = {"ebal": "entropy balancing has no weights that balance the covariates there",
                   "ipw": "the weights cannot be formed there (trimming)"}.get(self.weights, "")
            if self.method == "subclass":
                why = "too few units"
            warnings.warn(f"{len(failed)} of {len(np.unique(self.strata_))} risk sets could not be "
                          f"{'subclassified' if self.method == 'subclass' else 'weighted'} and were left "
                          f"out ({why})", RiskSetWarning, stacklevel=3)
        structure = "strata" if self.method == "subclass" else "weights"
        settings = ({"method": "subclass", "subclasses": self.subclasses, "min_n": self.min_n}
                    if self.method == "subclass" else
                    {"method": "weighting", "weights": self.weights, "trim": self.trim, "moments": self.moments})
        return MatchedSample(
            treat=treat, distance=score, weights=weights, subclass=subclass,
            match_matrix=np.empty((int(treat.sum()), 0), dtype=np.int64),
            discarded=np.zeros(n, dtype=bool), covariates=data[covariates].reset_index(drop=True),
            estimand="ATT", settings={**settings, "estimand": "ATT"}, structure=structure)

    def _subclassify(self, X: pd.DataFrame, t: np.ndarray, e: np.ndarray) -> MatchedSample:
        """Subclasses of one risk set: ``subclasses``, or as many as its units allow (down to 1)."""

        per = max(int(self.min_n), 1)  # each subclass needs min_n units of each group
        top = min(int(self.subclasses), int(t.sum()) // per, int((~t).sum()) // per)
        for k in range(max(top, 1), 0, -1):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the count is reported once for all risk sets
                    r = Subclassification(subclasses=max(k, 2), min_n=self.min_n, distance=e,
                                          estimand="ATT").fit(X, t).result_ if k > 1 else None
            except EstimationError:
                continue
            if r is not None:
                return dataclasses.replace(r, settings={**r.settings, "subclasses": k})
            break
        codes = np.zeros(len(t), dtype=np.int64)  # one subclass: the risk set itself

        return MatchedSample(treat=t, distance=e, weights=subclass_weights(codes, t, "ATT"), subclass=codes,
                             match_matrix=np.empty((int(t.sum()), 0), dtype=np.int64),
                             discarded=np.zeros(len(t), dtype=bool), covariates=X, estimand="ATT",
                             settings={"method": "subclass", "subclasses": 1}, structure="strata")

    @property
    def matched_sample(self) -> MatchedSample:
        """The fitted result (raises NotFittedError before ``fit``)."""
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def at_risk(frame: pd.DataFrame, id: str, period: str, enrolled: str) -> np.ndarray:
    """Positions of the rows at risk: each person's periods up to the first enrolment."""
    flags = treatment_vector(frame[enrolled].to_numpy(), len(frame))
    for column in (id, period):
        if frame[column].isna().any():
            count = int(frame[column].isna().sum())
            raise InvalidInputError(f"Missing values in '{column}' "
                                    f"({count} row{'s' if count != 1 else ''}).")
    dup = frame.duplicated([id, period], keep="first")
    if dup.any():
        first = frame.loc[dup.to_numpy(), [id, period]].iloc[0]
        raise InvalidInputError(
            f"Each person may have one row per period; duplicate rows: {int(dup.sum())}, "
            f"first: {id}={first[id]!r}, {period}={first[period]!r}.")
    try:
        enrol = frame.loc[flags].groupby(frame.loc[flags, id], sort=False)[period].min()
        first = frame[id].map(enrol)
        late = first.notna().to_numpy() & (frame[period] > first).fillna(False).to_numpy()
    except TypeError as exc:
        raise InvalidInputError(f"The '{period}' column must hold comparable values "
                                f"(all strings 'YYYY-MM', dates or numbers): {exc}.") from None
    return np.flatnonzero(~late)
