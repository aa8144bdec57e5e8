"""Bit-for-bit check of matching (issue 14): a SHA-256 over every float of eight settings.

    python benchmarks/bits_matching.py ROOT [N]

ROOT is a checkout whose `estimation` is imported (the branch, or an unpacked copy of the
code before a change with its own build of the extension); N units of the benchmark data
(default 200,000). Prints one hash per setting (coefficients, scores, distance, weights,
subclasses, match matrix, discarded flags, every number of the balance table, the sample
sizes, ATT and SE) and the hash of them all: an optimisation must leave every one as it was.
"""

from __future__ import annotations

import hashlib
import sys
import warnings

SETTINGS = [dict(caliper=0.2), dict(caliper=0.2, ratio=3), dict(caliper=0.2, replace=True),
            dict(), dict(ratio=2, replace=True), dict(caliper=0.2, exact=["region"]),
            dict(caliper=0.05, std_caliper=False), dict(caliper=0.2, link="probit")]


def main() -> None:
    root = sys.argv[1]
    sys.path[:0] = [root, f"{root}/benchmarks"]
    import numpy as np

    from estimation import NearestNeighborMatching, PropensityScore
    from estimation.balance import balance_table
    from estimation.effects import estimate_att
    from speed_data import COVARIATES, make_data

    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    frame = make_data(n)
    frame["region"] = frame["region"].astype("category")
    X, t, y = frame[COVARIATES], frame["treat"].to_numpy(), frame["y"].to_numpy()
    total = hashlib.sha256()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for setting in SETTINGS:
            kwargs = dict(setting)
            link = kwargs.pop("link", "logit")
            h = hashlib.sha256()
            score = PropensityScore(link=link).fit(X, t)
            h.update(np.ascontiguousarray(score.coef_).tobytes())
            h.update(score.scores_.tobytes())
            r = NearestNeighborMatching(distance=score.distance(), **kwargs).fit(X, t).result_
            for a in (r.distance, r.weights, r.subclass, r.match_matrix, r.discarded):
                h.update(np.ascontiguousarray(np.asarray(a)).tobytes())
            b = balance_table(r)
            h.update(b.frame.select_dtypes("number").to_numpy(dtype=float).tobytes())
            h.update(b.sample_sizes.to_numpy(dtype=float).tobytes())
            e = estimate_att(r, y)
            h.update(np.array([e.estimate, e.std_error]).tobytes())
            print(kwargs, link, h.hexdigest()[:16], e.estimate, e.std_error)
            total.update(h.digest())
    print("total", total.hexdigest()[:16])


if __name__ == "__main__":
    main()
