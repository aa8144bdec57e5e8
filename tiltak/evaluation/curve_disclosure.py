"""Disclosure control of the published curves: no step may reveal one person's exit.

A cumulative incidence curve moves only when someone has the event, so each published
point must rest on enough people: a point at month ``m`` is published for a group only when
the number of that group at risk at ``m`` and the number of its events since the previous
*published* point both reach ``min_count`` (the model's disclosure threshold). Points that
fail are left out (the next published point then covers their events too); the curve
starts at 0 at month 0, which reveals nothing. Counts themselves are not published.
"""

from __future__ import annotations

from collections.abc import Sequence


def publishable(n_risk: Sequence[int], events_since_previous: Sequence[int], min_count: int) -> list[bool]:
    """Which grid points may be published, walking forward from month 0.

    >>> publishable([40, 38, 30, 4], [3, 2, 6, 5], 5)
    [False, True, True, False]
    """
    out, pending = [], 0
    for at_risk, events in zip(n_risk, events_since_previous):
        pending += int(events)
        ok = int(at_risk) >= min_count and pending >= min_count
        out.append(ok)
        if ok:
            pending = 0
    return out


def disclosed_curve(curve: dict, min_count: int) -> dict:
    """The participants' and the comparison curve at the points each may be published."""
    months = [0, *curve["months"]]

    def side(values: Sequence[float], risk: Sequence[int], events: Sequence[int], *extra: Sequence[float]):
        keep = [True, *publishable(risk, events, min_count)]
        shown = [0.0, *values]
        cols = [[0.0, *e] for e in extra]
        return ([v if k else None for v, k in zip(shown, keep)],
                [[v if k else None for v, k in zip(c, keep)] for c in cols],
                sum(1 for k in keep if not k))

    treated, _, t_hidden = side(curve["treated"], curve["n_risk_treated"], curve["events_treated"])
    control, (low, high), c_hidden = side(curve["control"], curve["n_risk_control"], curve["events_control"],
                                          curve["control_low"], curve["control_high"])
    return {"months": months, "participants": treated, "comparison": control, "comparison_low": low,
            "comparison_high": high, "suppressed_points": t_hidden + c_hidden, "min_count": min_count}
