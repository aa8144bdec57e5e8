"""What each method estimates, in plain words, for summaries, reports and ``tiltak match``.

Every matched or weighted sample names its estimand (``MatchedSample.estimand``): ATT, ATC,
ATE or ATO. What the estimate then stands for also depends on the units the method left
out: a caliper, common-support discarding or coarsened exact matching can drop treated
units, and trimming drops units with extreme propensity scores. ``describe_estimand`` says
both; ``describe_method`` gives the method and its settings in one or two lines.
"""

from __future__ import annotations

import numpy as np

WORDS = {
    "ATT": "the average effect of the measure on those who took part",
    "ATC": "the average effect the measure would have had on those who did not take part",
    "ATE": "the average effect of the measure in the whole sample, participants and "
           "non-participants alike",
    "ATO": "the average effect in the overlap population (each unit weighted by e(1 - e): "
           "people who could as well have taken part as not)",
}
CODES = tuple(WORDS)
METHOD_NAMES = {
    "nearest": "Nearest-neighbour matching",
    "optimal": "Optimal pair matching",
    "full": "Optimal full matching",
    "subclass": "Subclassification on the propensity score",
    "cem": "Coarsened exact matching",
    "weighting": "Weighting",
}


def estimand_words(code: str) -> str:
    """The plain-words meaning of an estimand code (the code itself when unknown)."""
    return WORDS.get(code, code)


def _dropped(sample, group: bool) -> tuple[int, int]:
    members = np.asarray(sample.treat, bool) == group
    kept = members & (np.asarray(sample.weights) > 0)
    return int(kept.sum()), int(members.sum())


def describe_estimand(sample) -> str:
    """One sentence: the estimand, its meaning and the population it refers to.

    >>> from estimation import NearestNeighborMatching, describe_estimand, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> describe_estimand(sample)
    'ATT: the average effect of the measure on those who took part.'
    """
    code = sample.estimand
    text = f"{code}: {estimand_words(code)}"
    trim = sample.settings.get("trim")
    if trim:
        text += (f", among the units with a propensity score between {trim:g} and {1 - trim:g}"
                 f" ({sample.settings.get('trimmed', 0)} unit(s) trimmed)")
        return text + "."
    focal = {"ATT": True, "ATC": False}.get(code)
    groups = [focal] if focal is not None else ([True, False] if code == "ATE" else [])
    parts = []
    for group in groups:
        kept, total = _dropped(sample, group)
        if kept < total:
            label = "treated" if group else "control"
            parts.append(f"{kept} of the {total} {label} units")
    if parts:
        text += (f"; the method kept only {' and '.join(parts)}, so the estimate refers to "
                 "them, not to the whole group")
    return text + "."


def _weighting_line(s: dict) -> str:
    if s.get("weights") == "ebal":
        return f"entropy balancing on {'means' if s.get('moments', 1) == 1 else 'means and squares'}"
    parts = ["inverse probability weights" if s.get("estimand") != "ATO" else "overlap weights"]
    if s.get("stabilize"):
        parts.append("stabilised")
    if s.get("trim"):
        parts.append(f"trimmed at {s['trim']:g}")
    return ", ".join(parts)


def _caliper(s: dict) -> str:
    if s.get("caliper") is None:
        return "no caliper" if not s.get("covariate_calipers") else "no caliper on the score"
    unit = " SD" if s.get("std_caliper") else ""
    return f"caliper {s['caliper']:g}{unit} (= {s['caliper_width']:.6g} in distance units)"


def describe_method(sample) -> str:
    """The method and its settings, e.g. for the head of ``tiltak match``'s summary.

    >>> from estimation import NearestNeighborMatching, describe_method, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> describe_method(sample)
    'Nearest-neighbour matching: distance glm, ratio 1:1, without replacement, no caliper, order largest, ties matchit'
    """
    s = sample.settings
    method = s.get("method", "nearest")
    name = METHOD_NAMES.get(method, method)
    if method == "optimal":
        ratio = (f"ratio {s['ratio']:g}:1" if s["min_controls"] == s["max_controls"] else
                 f"{s['min_controls']:g} to {s['max_controls']:g} controls, {s['ratio']:g} "
                 "on average")
        detail = f"{ratio}, {_caliper(s)}, exact {', '.join(s['exact']) or 'none'}"
    elif method == "full":
        detail = (f"min_controls {s['min_controls']:g}, max_controls {s['max_controls']:g}, "
                  f"{_caliper(s)}, exact {', '.join(s['exact']) or 'none'}; total distance "
                  f"{s['total_distance']:.6g} over {s['n_arcs']:,} admissible pairs")
    elif method == "subclass":
        detail = f"{s['subclasses']} subclasses, min_n {s['min_n']}"
    elif method == "cem":
        detail = f"{s['strata']} matched strata, {s['treated_dropped']} treated unit(s) dropped"
        if s.get("k2k"):
            detail += f"; k2k: one to one within the strata, distance {s['k2k_method'] or 'none (input order)'}"
    elif method == "weighting":
        detail = _weighting_line(s)
    elif method == "nearest" and "ratio" in s:
        detail = _nearest_line(s)
    else:
        detail = ""
    return f"{name}: {detail}" if detail else name


def _nearest_line(s: dict) -> str:
    """Nearest-neighbour matching's settings in one line."""
    if s.get("max_controls"):
        ratio = f"{s['min_controls']} to {s['max_controls']} controls, {s['ratio']:g} on average"
    else:
        ratio = f"ratio {s['ratio']}:1"
    reuse = s.get("reuse_max")
    if not s.get("replace"):
        reuse_text = "without replacement"
    elif reuse is None:
        reuse_text = "with replacement"
    else:
        reuse_text = f"each control used at most {reuse} times"
    distance = s.get("distance", "glm")
    if s.get("mahvars") and distance in ("glm", "logit", "user"):
        distance = f"Mahalanobis on {', '.join(s['mahvars'])} within the {distance} score's caliper"
    elif distance not in ("glm", "logit", "user", "matrix"):
        distance = distance.replace("_", " ")
    parts = [f"distance {distance}", ratio, reuse_text, _caliper(s)]
    for name, cal in (s.get("covariate_calipers") or {}).items():
        width = (s.get("covariate_caliper_widths") or {}).get(name)
        unit = f" SD (= {width:.6g})" if cal.get("std") and width is not None else ""
        parts.append(f"caliper {cal['caliper']:g}{unit} on {name}")
    if s.get("exact"):
        parts.append(f"exact {', '.join(s['exact'])}")
    if s.get("antiexact"):
        parts.append(f"antiexact {', '.join(s['antiexact'])}")
    parts += [f"order {s.get('order')}", f"ties {s.get('ties')}"]
    return ", ".join(parts)
