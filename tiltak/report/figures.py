"""Figures of the report as deterministic inline SVG (matplotlib, fixed hash salt, no date).

Every figure draws aggregates only: indicator values that disclosure control published,
balance statistics, and binned propensity-score densities.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

from tiltak.report.terms import unit_title
from tiltak_base.catalogue import pick
from tiltak.evaluation.trajectories import ExpectedSeries, IndicatorSeries, period_position, sorted_points

COLOURS = {"observed": "#1f4e79", "expected": "#b35c00", "target": "#2e7d32", "band": "#c8e6c9",
           "treated": "#1f4e79", "control": "#b35c00", "before": "#9e9e9e", "after": "#1f4e79"}


STYLE = {
    "svg.hashsalt": "tiltak", "svg.fonttype": "none", "font.family": "DejaVu Sans",
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e0e0e0", "grid.linewidth": 0.6,
}


def decimal_marks(ax: Any, labels: dict[str, str], axes: str = "xy") -> None:
    """Tick labels with the language's decimal mark (a comma in Norwegian) and a true minus."""
    mark = labels.get("decimal_mark", ".")
    if mark == ".":
        return
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _pos: f"{value:g}".replace("-", "\u2212").replace(".", mark))
    for name in axes:
        getattr(ax, f"{name}axis").set_major_formatter(formatter)


def styled(func: Callable[..., str]) -> Callable[..., str]:
    """Draw inside ``matplotlib.rc_context(STYLE)``: the style never leaks into the process."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure and its axes, without pyplot (no global figure registry, no backend switch)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def to_svg(fig: Any, label: str) -> str:
    """Serialise a figure as inline SVG with a title and ARIA label."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    safe = _escape(label)
    text = re.sub(r"<svg ", f'<svg role="img" aria-label="{safe}" ', text, count=1)
    text = re.sub(r"(<svg[^>]*>)", rf"\1<title>{safe}</title>", text, count=1)
    return re.sub(r'\s(width|height)="[^"]*pt"', "", text, count=2)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _time_axis(ax: Any, mark: str = ".") -> None:
    """Years as major ticks labelled '2013', quarters as minor ticks; plain numbers on y."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.xaxis.set_major_locator(MultipleLocator(1.0))
    ax.xaxis.set_minor_locator(MultipleLocator(0.25))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(round(x))}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _plain(y).replace(".", mark)))


def _plain(value: float, _: Any = None) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u2009")
    return f"{value:g}".replace("-", "\u2212")


@styled
def indicator_chart(series: IndicatorSeries, expected: ExpectedSeries, labels: dict[str, str], lang: str) -> str:
    """Observed series (gaps where suppressed) against the expected trajectory and targets."""
    fig, ax = _figure(4.6, 2.3)
    points = sorted_points(list(series.points))
    xs = [period_position(p.period) for p in points]
    ys = [float("nan") if p.value is None or p.suppressed else p.value for p in points]
    settled = [y if not p.provisional else float("nan") for p, y in zip(points, ys)]
    ax.plot(xs, settled, color=COLOURS["observed"], marker="o", markersize=2.2, linewidth=1.3, label=labels["observed"])
    late = [n for n, p in enumerate(points) if p.provisional]
    if late:  # provisional periods: dashed on from the last settled point, hollow markers, own legend entry
        dashed = (0, (3, 2))
        if late[0] > 0:  # the connector from the last settled point
            ax.plot(xs[late[0] - 1:late[0] + 1], ys[late[0] - 1:late[0] + 1], color=COLOURS["observed"],
                    linestyle=dashed, linewidth=1.1)
        ax.plot([xs[n] for n in late], [ys[n] for n in late], color=COLOURS["observed"], linestyle=dashed,
                linewidth=1.1, marker="o", markersize=3.4, markerfacecolor="white",
                markeredgecolor=COLOURS["observed"], markeredgewidth=1.0, label=labels["provisional"])
    if expected.trajectory:
        ax.plot([period_position(p.period) for p in expected.trajectory], [p.value for p in expected.trajectory],
                color=COLOURS["expected"], linestyle="--", marker="s", markersize=3, linewidth=1.2, label=labels["expected"])
    _draw_targets(ax, expected, labels)
    ax.set_ylabel(unit_title(series.unit, lang), fontsize=8)
    _time_axis(ax, labels.get("decimal_mark", "."))
    ax.margins(x=0.03)
    ax.legend(loc="best", frameon=False, fontsize=7)
    return to_svg(fig, f"{pick(series.title, lang)}: {labels['chart_alt']}")


def _draw_targets(ax: Any, expected: ExpectedSeries, labels: dict[str, str]) -> None:
    targets = ([expected.baseline] if expected.baseline else []) + list(expected.targets)
    if not targets:
        return
    xs = [period_position(p.period) for p in targets]
    ys = [p.value for p in targets]
    ax.plot(xs, ys, color=COLOURS["target"], marker="D", markersize=3.5, linewidth=1.0, label=labels["target"])
    if expected.tolerance:
        band = [abs(y) * expected.tolerance for y in ys]
        ax.fill_between(xs, [y - b for y, b in zip(ys, band)], [y + b for y, b in zip(ys, band)],
                        color=COLOURS["band"], alpha=0.5, linewidth=0, label=labels["tolerance"])


@styled
def love_plot(rows: Sequence[dict[str, Any]], threshold: float, labels: dict[str, str], title: str) -> str:
    """Absolute standardised mean differences before and after matching, per term."""
    rows = list(rows)[::-1]
    fig, ax = _figure(4.4, 0.17 * len(rows) + 1.1)
    ys = list(range(len(rows)))
    before = [abs(r["smd_before"]) if r["smd_before"] is not None else float("nan") for r in rows]
    after = [abs(r["smd_after"]) if r["smd_after"] is not None else float("nan") for r in rows]
    ax.scatter(before, ys, color=COLOURS["before"], s=14, label=labels["before"], zorder=3)
    ax.scatter(after, ys, color=COLOURS["after"], s=14, marker="D", label=labels["after"], zorder=3)
    ax.axvline(threshold, color="#c62828", linestyle=":", linewidth=1)
    ax.set_yticks(ys, [str(r["term"]) for r in rows], fontsize=7)
    ax.set_xlabel(labels["abs_smd"], fontsize=8)
    ax.set_xlim(left=0)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=7)
    decimal_marks(ax, labels, "x")
    return to_svg(fig, title)


@styled
def overlap_plot(overlap: dict[str, Any], labels: dict[str, str], title: str) -> str:
    """Binned propensity-score densities of participants and comparison persons (matched)."""
    fig, ax = _figure(4.4, 2.6)
    edges = overlap["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    width = (edges[1] - edges[0]) if len(edges) > 1 else 0.05
    ax.bar(centres, overlap["treated"], width=width, color=COLOURS["treated"], alpha=0.55, label=labels["participants"])
    ax.bar(centres, [-v for v in overlap["control"]], width=width, color=COLOURS["control"], alpha=0.55,
           label=labels["comparison"])
    ax.axhline(0, color="#616161", linewidth=0.8)
    ax.set_xlabel(labels["propensity"], fontsize=8)
    ax.set_ylabel(labels["density"], fontsize=8)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=7)
    decimal_marks(ax, labels)
    return to_svg(fig, title)


@styled
def return_curve_plot(curve: dict[str, Any], labels: dict[str, str], title: str) -> str:
    """The participants' observed curve, the estimated curve had they not participated, and
    the model's expectation, at the points disclosure control publishes (months since start)."""
    fig, ax = _figure(4.6, 2.6)

    def shown(values: Sequence[Any]) -> tuple[list[float], list[float]]:
        pairs = [(m, 100 * v) for m, v in zip(curve["months"], values) if v is not None]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    xs, ys = shown(curve["participants"])
    ax.step(xs, ys, where="post", color=COLOURS["treated"], linewidth=1.4, label=labels["curve_participants"])
    xs, ys = shown(curve["comparison"])
    ax.step(xs, ys, where="post", color=COLOURS["control"], linewidth=1.2, linestyle="-",
            label=labels["curve_comparison"])
    _, low = shown(curve["comparison_low"])
    _, high = shown(curve["comparison_high"])
    if len(low) == len(xs) and xs:
        ax.fill_between(xs, low, high, step="post", color=COLOURS["control"], alpha=0.15, linewidth=0)
    expected = curve.get("expected") or []
    if expected:
        ax.scatter([p["months"] for p in expected], [100 * p["value"] for p in expected], marker="D", s=22,
                   color=COLOURS["target"], zorder=4, label=labels["curve_expected"])
    ax.set_xlabel(labels["months_since_start"], fontsize=8)
    ax.set_ylabel(labels["cumulative_share"], fontsize=8)
    ax.set_xlim(0, max(curve["months"]) if curve["months"] else 12)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False, fontsize=7)
    decimal_marks(ax, labels)
    return to_svg(fig, title)
