"""Estimation where the registers live: the engine side of matching at scale (Apache Spark).

The engine computes what needs every row, in parallel, and hands arrays and aggregates to
:mod:`estimation`, which stays free of engines:

* :func:`tiltak.scale.irls.fit_logit` fits the propensity score by iteratively reweighted
  least squares with the gradient and the Hessian of each iteration summed over the
  partitions (R's ``glm`` algorithm, the same estimates to 1e-8);
* :func:`tiltak.scale.strata.match_in_strata` runs :class:`estimation.NearestNeighborMatching`
  on each exact stratum (e.g. enrolment month x nationality) in parallel;
* :func:`tiltak.scale.strata.balance_from_moments` gives standardised mean differences and
  the effect on the treated from sums computed in the engine.
"""

from __future__ import annotations

__all__ = ["ScaleError"]

from tiltak.scale.errors import ScaleError
