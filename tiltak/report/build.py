"""Build the report: figures from the evaluation document, then the HTML page."""

from __future__ import annotations

import base64
import re
from typing import Any

import networkx as nx

from logicmodel.diagram import to_svg
from logicmodel.model import LogicModel
from tiltak.evaluation.model_reads import link_pairs, model_text, model_title
from tiltak.evaluation.story import headline_kind
from tiltak.evaluation.trajectories import ExpectedSeries, IndicatorSeries, SeriesPoint, TrajectoryPoint
from tiltak.evaluation.verdicts import VerdictKind
from tiltak.report.drawing import FigureJob, FigurePool, HereDrawer
from tiltak.report.labels import LABELS
from tiltak.report.render import render_report
from tiltak.report.terms import term_title
from tiltak_base.catalogue import pick


Drawer = FigurePool | HereDrawer


class _KindOnly:
    def __init__(self, kind: str) -> None:
        self.kind = VerdictKind(kind)


def diagram_graph(logic_model: LogicModel, model: dict[str, Any]):
    """The model's graph with node ``verdict`` and edge ``rating`` (from its ``model`` entry of
    the document) for ``logicmodel.diagram``."""

    graph = nx.DiGraph(title=model_title(logic_model), id=logic_model.id)
    by_node: dict[str, list[_KindOnly]] = {}
    for v in model["verdicts"]:
        by_node.setdefault(v["node"], []).append(_KindOnly(v["verdict"]))
    for node in logic_model.nodes:
        attrs: dict[str, Any] = {"level": node.level, "title": model_text(node.title, node.id)}
        if node.horizon:
            attrs["horizon"] = node.horizon
        if node.id in by_node:
            attrs["verdict"] = headline_kind(by_node[node.id])
        graph.add_node(node.id, **attrs)
    ratings = {(lk["source"], lk["target"]): lk["rating"] for lk in model["contribution"]["links"]}
    for source, target, link in link_pairs(logic_model):
        attrs = {"rating": ratings.get((source, target), "untested")}
        if link.mechanism:
            attrs["mechanism"] = model_text(link.mechanism)
        if link.lag_months is not None:
            attrs["lag_months"] = link.lag_months
        graph.add_edge(source, target, **attrs)
    return graph


DIAGRAM_FITS = (("phone", 340.0), ("narrow", 460.0), ("medium", 680.0), ("wide", 920.0))  # report.css shows one per width


def diagram_html(graph: Any, lang: str) -> str:
    """The diagram drawn for each width in ``DIAGRAM_FITS``, each in its ``fit-<name>`` box
    (report.css shows the one that fits the screen, so the text keeps its size)."""

    inline = []
    for name, width in DIAGRAM_FITS:
        svg = to_svg(graph, lang=lang, direction="auto", width=width, id_suffix=name)
        inline.append(f'<div class="fit-{name}">{svg[svg.index("<svg"):]}</div>')
    return "".join(inline)


def _diagram(logic_model: LogicModel, model: dict[str, Any], lang: str) -> tuple[str, str]:
    """The diagram inline (:func:`diagram_html`), and the left-to-right drawing at full size in
    a data URI for a reader who downloads it (no network, no script: a ``download`` link)."""


    graph = diagram_graph(logic_model, model)
    full = to_svg(graph, lang=lang, direction="lr")
    return diagram_html(graph, lang), "data:image/svg+xml;base64," + base64.b64encode(full.encode("utf-8")).decode("ascii")


def indicator_job(entry: dict[str, Any], labels: dict[str, str], lang: str) -> FigureJob | None:
    """The chart of one indicator entry of the document (None when no value is published)."""
    points = tuple(SeriesPoint(p["period"], p["value"], p["suppressed"], bool(p.get("provisional")))
                   for p in entry["points"])
    if not any(p.value is not None for p in points):
        return None
    series = IndicatorSeries(entry["id"], entry["title"], entry["unit"], entry["decimals"], entry["direction"], points)
    exp = entry["expected"]
    expected = ExpectedSeries(
        entry["id"], tuple(TrajectoryPoint(**p) for p in exp["trajectory"]), tuple(TrajectoryPoint(**p) for p in exp["targets"]),
        TrajectoryPoint(**exp["baseline"]) if exp["baseline"] else None, exp["tolerance"],
    )
    return FigureJob("indicator_chart", (series, expected, labels, lang))


def chart_jobs(model: dict[str, Any], threshold: float, lang: str) -> dict[str, FigureJob]:
    """The charts of one ``model`` entry of the document, keyed as the template expects: from
    whatever of its ``indicators``, ``return_curve`` and ``estimates`` the entry holds (a
    part of an entry gives the charts of that part)."""
    labels, mid = LABELS[lang], model.get("id")
    jobs: dict[str, FigureJob] = {}
    for entry in model.get("indicators", ()):
        job = indicator_job(entry, labels, lang)
        if job:
            jobs[f"indicator:{mid}:{entry['id']}"] = job
    curve = model.get("return_curve")
    if curve and any(v is not None for v in curve["participants"][1:]):
        title = f"{labels['return_curve']}: {pick(curve['outcome_title'], lang)}"
        jobs[f"curve:{mid}"] = FigureJob("return_curve_plot", (curve, labels, title))
    for i, est in enumerate(model.get("estimates", ())):
        title = pick(est["outcome_title"], lang)
        if est.get("balance") and est["balance"]["terms"]:
            variables = [*(est.get("design") or {}).get("covariates", ()), *(est.get("design") or {}).get("exact", ())]
            terms = [{**row, "term": term_title(str(row["term"]), variables, lang)} for row in est["balance"]["terms"]]
            jobs[f"love:{mid}:{i}"] = FigureJob("love_plot", (terms, threshold, labels, f"{labels['love_plot']}: {title}"))
        if est.get("overlap"):
            jobs[f"overlap:{mid}:{i}"] = FigureJob("overlap_plot", (est["overlap"], labels,
                                                                    f"{labels['overlap_plot']}: {title}"))
    return jobs


def build_figures(document: dict[str, Any], models: dict[str, LogicModel], lang: str,
                  drawer: Drawer | None = None) -> dict[str, str]:
    """Every figure of the report as inline SVG, keyed as the template expects (``models``:
    the loaded models by id, for their diagrams; ``drawer``: who draws the charts, by
    default this process)."""
    drawer = drawer or HereDrawer()
    threshold = document["settings"]["balance_threshold"]
    asked = {key: drawer.ask(job) for model in document["models"]
             for key, job in chart_jobs(model, threshold, lang).items()}
    diagrams = {}  # drawn here while a drawer's workers draw the charts
    for model in document["models"]:
        mid = model["id"]
        diagrams[f"diagram:{mid}"], diagrams[f"diagram-file:{mid}"] = _diagram(models[mid], model, lang)
    return {**diagrams, **{key: drawer.take(handle) for key, handle in asked.items()}}


def prefix_ids(svg: str, prefix: str) -> str:
    """Make the ids of one inline SVG unique in the page (and the references to them)."""

    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^)"]+)',
                  lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in ids else m.group(2)), svg)


def _unique(figs: dict[str, str]) -> dict[str, str]:

    return {key: svg if svg.startswith("data:") else prefix_ids(svg, re.sub(r"[^A-Za-z0-9_-]", "-", key) + "-")
            for key, svg in figs.items()}


def build_report(document: dict[str, Any], context: dict[str, Any], lang: str, drawer: Drawer | None = None) -> str:
    """The complete self-contained HTML page (``context``: what ``assemble_document`` gives
    besides the document, the loaded models by id; ``drawer``: as for :func:`build_figures`)."""
    return render_report(document, _unique(build_figures(document, context["models"], lang, drawer)), lang)
