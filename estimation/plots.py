"""Balance and overlap plots as SVG strings, byte-for-byte deterministic and accessible.

* ``love_plot_svg(balance)``: absolute standardized mean differences per term before
  (open circles) and after matching (filled), with a threshold line (0.1 by default).
* ``overlap_plot_svg(sample)``: the distribution of the distance measure (propensity score)
  for treated (above the axis) and controls (below, mirrored), before and after matching
  (after: weighted by the matching weights).

matplotlib draws them with the Agg backend; text stays text (``svg.fonttype = "none"``),
ids come from a fixed hash salt and the date metadata is dropped, so the same input gives
the same bytes. Each SVG carries a ``<title>`` and a ``<desc>`` for screen readers.
"""

from __future__ import annotations

from contextlib import contextmanager

import html
import io
import re

import numpy as np

from estimation.balance import BalanceTable
from estimation.matched import MatchedSample
from estimation.parameters import InvalidInputError, InvalidParameterError

_RC = {
    "svg.hashsalt": "tiltak",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BEFORE_COLOUR = "#9a9a9a"
AFTER_COLOUR = "#1f4e79"
TREATED_COLOUR = "#b5523b"
CONTROL_COLOUR = "#1f4e79"


@contextmanager
def _style():
    """matplotlib's defaults plus ours, whatever the caller's global settings are."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(_RC)
        yield


def _render(figure, title: str, description: str) -> str:
    """Serialise a matplotlib figure to SVG text with <title> and <desc> added."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "tiltak"})
    svg = buffer.getvalue()
    accessible = (
        f'<title id="tiltak-title">{html.escape(title)}</title>\n'
        f'<desc id="tiltak-desc">{html.escape(description)}</desc>\n'
    )
    match = re.search(r"<svg\b[^>]*>", svg)
    opening = match.group(0)
    tagged = opening[:-1] + ' role="img" aria-labelledby="tiltak-title tiltak-desc">'
    return svg[: match.start()] + tagged + "\n" + accessible + svg[match.end():]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def love_plot_svg(balance: BalanceTable, *, threshold: float | None = None,
                  title: str = "Covariate balance") -> str:
    """Absolute SMD per term before and after matching, with a threshold line.

    >>> from estimation import NearestNeighborMatching, balance_table, love_plot_svg, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> svg = love_plot_svg(balance_table(sample))
    >>> "<svg" in svg, "age" in svg
    (True, True)
    """
    if not isinstance(balance, BalanceTable):
        raise InvalidInputError(
            f"love_plot_svg expects a BalanceTable; got {type(balance).__name__}."
        )
    limit = balance.threshold if threshold is None else threshold
    if not (isinstance(limit, (int, float)) and limit > 0):
        raise InvalidParameterError("love_plot_svg", "threshold", "a float > 0", threshold)
    frame = balance.frame
    terms = list(frame["term"])
    before = np.abs(frame["smd_before"].to_numpy(dtype=float))
    after = np.abs(frame["smd_after"].to_numpy(dtype=float))
    with _style():
        figure = _figure(6.0, 1.2 + 0.28 * len(terms))
        axes = figure.add_subplot()
        y = np.arange(len(terms))[::-1]
        axes.scatter(before, y, facecolors="none", edgecolors=BEFORE_COLOUR, label="Before")
        axes.scatter(after, y, color=AFTER_COLOUR, label="After")
        axes.axvline(limit, color="#444444", linestyle="--", linewidth=0.8)
        axes.set_yticks(y, terms)
        axes.set_xlabel("Absolute standardized mean difference")
        axes.set_title(title)
        axes.legend(loc="lower right", frameon=False)
        svg = _render(figure, title, _love_description(terms, before, after, limit))
    return svg


def _love_description(terms, before, after, limit) -> str:
    worst = int(np.nanargmax(after)) if np.isfinite(after).any() else None
    above = [t for t, a in zip(terms, after) if np.isfinite(a) and a > limit]
    text = (f"Dot plot of the absolute standardized mean difference of {len(terms)} terms "
            f"before and after matching, with a reference line at {limit:g}.")
    if worst is not None:
        text += f" Largest after matching: {terms[worst]} ({after[worst]:.3f})."
    text += f" Above the line after matching: {', '.join(above) if above else 'none'}."
    return text


def _mirrored(axes, distance, treat, weights, edges, label: str) -> None:
    for group, sign, colour, name in ((treat, 1, TREATED_COLOUR, "Treated"),
                                      (~treat, -1, CONTROL_COLOUR, "Control")):
        w = weights[group]
        if w.sum() <= 0:
            continue
        density, _ = np.histogram(distance[group], bins=edges, weights=w, density=True)
        axes.bar(edges[:-1], sign * density, width=np.diff(edges), align="edge",
                 color=colour, alpha=0.75, linewidth=0, label=name)
    axes.axhline(0, color="#444444", linewidth=0.6)
    axes.set_title(label)
    axes.set_xlabel("Distance (propensity score)")


def overlap_plot_svg(sample: MatchedSample, *, bins: int = 30,
                     title: str = "Propensity score overlap") -> str:
    """Mirrored histograms of the distance for treated/controls, before and after matching.

    >>> from estimation import NearestNeighborMatching, overlap_plot_svg, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> svg = overlap_plot_svg(sample, bins=10)
    >>> "<svg" in svg
    True
    """
    if not isinstance(sample, MatchedSample):
        raise InvalidInputError(
            f"overlap_plot_svg expects a MatchedSample; got {type(sample).__name__}."
        )
    if not (isinstance(bins, (int, np.integer)) and bins >= 2):
        raise InvalidParameterError("overlap_plot_svg", "bins", "an int >= 2", bins)
    distance = np.asarray(sample.distance, dtype=float)
    treat = np.asarray(sample.treat).astype(bool)
    weights = np.asarray(sample.weights, dtype=float)
    if treat.all() or not treat.any():
        raise InvalidInputError("overlap_plot_svg needs both treated and control units.")
    if not np.isfinite(distance).all():
        raise InvalidInputError("overlap_plot_svg: the sample's distance has non-finite values.")
    low, high = float(distance.min()), float(distance.max())
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    with _style():
        figure = _figure(7.0, 3.2)
        left, right = figure.subplots(1, 2, sharey=True)
        _mirrored(left, distance, treat, np.ones_like(distance), edges, "All units")
        _mirrored(right, distance, treat, weights, edges, "Matched (weighted)")
        left.set_ylabel("Density (treated up, control down)")
        handles, labels = left.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        figure.suptitle(title)
        svg = _render(figure, title, _overlap_description(distance, treat, weights))
    return svg


def _overlap_description(distance, treat, weights) -> str:
    matched = weights > 0
    parts = []
    for name, group in (("treated", treat), ("control", ~treat)):
        parts.append(f"{name} {distance[group].min():.3f} to {distance[group].max():.3f}")
    text = ("Mirrored histograms of the distance measure, treated above and controls below "
            "the axis, for all units and for the matched sample. Range before matching: "
            + "; ".join(parts) + ".")
    if (treat & matched).any() and (~treat & matched).any():
        text += (f" Matched: {int((treat & matched).sum())} treated, "
                 f"{int((~treat & matched).sum())} controls.")
    return text
