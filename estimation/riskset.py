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
in the chosen order across all periods. The trials are matched independently of each
other: without replacement a person is used at most once *per trial* and may be a control
in several trials; with ``replace=True`` a control may serve several treated units of its
trial. A person who enrols later may serve as a control in an earlier trial, as the design
allows (they had not enrolled then). Because one person can appear in several trials,
standard errors must be clustered on the person (and the matched set).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from estimation.matched import MatchedSample
from estimation.matching import NearestNeighborMatching
from estimation.nearest_settings import NearestSettings, check_nearest
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    Parameters,
)
from estimation.propensity import PropensityScore, check_two_groups, treatment_vector

NAME = "RiskSetMatching"


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
    estimator, ties
        As for :class:`NearestNeighborMatching`; ``exact`` adds columns to the period;
        ``ties`` defaults to MatchIt's default call (``"matchit"``), as everywhere else.

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
                 exact: list[str] | None = None, order: str = "largest", discard: str = "none",
                 random_state: int | None = None, estimator: Any = None, ties: str = "matchit"):
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

    def _params(self) -> NearestSettings:
        if self.distance not in ("glm", "logit"):
            raise InvalidParameterError(NAME, "distance", "a str among {'glm', 'logit'}",
                                        self.distance)
        nn = NearestNeighborMatching(
            ratio=self.ratio, replace=self.replace, caliper=self.caliper,
            std_caliper=self.std_caliper, distance=self.distance, exact=self.exact,
            order=self.order, discard=self.discard, random_state=self.random_state,
            ties=self.ties)
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
        matcher = NearestNeighborMatching(
            ratio=p.ratio, replace=p.replace, caliper=p.caliper, std_caliper=p.std_caliper,
            distance=model.distance(self.distance), exact=exact, order=p.order,
            discard=p.discard, random_state=p.random_state, ties=p.ties)
        columns = list(dict.fromkeys([*covariates, *exact]))
        result = matcher.fit(data[columns], treat).result_
        settings = {**result.settings, "distance": self.distance, "exact": exact,
                    "design": "risk set"}
        self.result_ = dataclasses.replace(result, covariates=data[covariates].reset_index(drop=True),
                                           settings=settings)
        self.rows_ = pd.DataFrame({self.id: data[self.id].to_numpy(),
                                   self.period: data[self.period].to_numpy(), "row": kept})
        return self

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
