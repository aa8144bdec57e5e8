"""Contribution analysis: rate each causal link and each pathway from the evidence.

In the spirit of Mayne's contribution analysis, the theory of change is checked link by
link. The evidence at a node is the verdicts on the expected changes placed on it; for nodes without
a usable verdict, the monitored indicators: an input, activity or output with a published
positive value was delivered (achieved, even when below its target: the shortfall is
noted), other nodes are achieved when a target is on track and not achieved when off. A link ``A -> B`` is then rated:

* ``untested``  -- either end has no evidence, or the cause ``A`` was not achieved (a link
  cannot be tested when its cause did not happen);
* ``refuted``   -- ``A`` achieved and ``B`` changed the wrong way (a contradicted change);
* ``weakened``  -- ``A`` achieved and ``B`` not achieved, or both achieved while one of the
  link's monitored assumptions is off target;
* ``supported`` -- ``A`` and ``B`` achieved and no monitored assumption off target.

A pathway (a simple path from an activity to an impact) is as strong as its weakest link,
in the order refuted < weakened < untested < supported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from logicmodel.model import Link, LogicModel, Node
from tiltak.evaluation.model_reads import link_pairs, model_text
from tiltak.evaluation.verdicts import Verdict, VerdictKind

RATING_ORDER = ("refuted", "weakened", "untested", "supported")
DELIVERY_LEVELS = ("input", "activity", "output")
MAX_PATHWAYS = 200

_VERDICT_TO_STATUS = {
    VerdictKind.CONFIRMED: "achieved",
    VerdictKind.CONTRADICTED: "contrary",
    VerdictKind.NOT_CONFIRMED: "not_achieved",
    VerdictKind.INCONCLUSIVE: "unknown",
    VerdictKind.NOT_TESTABLE: "unknown",
}
_STATUS_PRIORITY = ("contrary", "achieved", "not_achieved", "unknown")


@dataclass(frozen=True)
class IndicatorEvidence:
    """What monitoring says about one indicator over the evaluation period.

    ``observed`` is true when it has at least one published (unsuppressed) positive value;
    ``status`` is the latest target status: ``on_track``, ``off_track`` or ``None`` when
    the indicator has no target.
    """

    indicator: str
    observed: bool
    status: str | None = None


@dataclass(frozen=True)
class NodeEvidence:
    node: str
    status: str  # achieved | not_achieved | contrary | unknown
    basis: str  # verdict | target | delivery | delivery_below_target | none


@dataclass(frozen=True)
class LinkRating:
    source: str
    target: str
    rating: str
    reason: str  # a code: no_evidence_source, no_evidence_target, cause_not_achieved, ...
    assumptions_off_track: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pathway:
    nodes: tuple[str, ...]
    rating: str
    weakest: tuple[str, str] | None


@dataclass(frozen=True)
class ContributionAnalysis:
    nodes: tuple[NodeEvidence, ...]
    links: tuple[LinkRating, ...]
    pathways: tuple[Pathway, ...]
    pathways_truncated: bool = False

    def node_status(self, node_id: str) -> str:
        return next((n.status for n in self.nodes if n.node == node_id), "unknown")

    def link_rating(self, source: str, target: str) -> str:
        return next((lk.rating for lk in self.links if (lk.source, lk.target) == (source, target)), "untested")


def node_evidence(
    node: Node, verdicts: Sequence[Verdict], indicators: Mapping[str, IndicatorEvidence]
) -> NodeEvidence:
    """The status of one node from its verdicts, else from its monitored indicators."""
    statuses = [_VERDICT_TO_STATUS[v.kind] for v in verdicts if v.change.node == node.id]
    known = [s for s in statuses if s != "unknown"]
    if known:
        return NodeEvidence(node.id, min(known, key=_STATUS_PRIORITY.index), "verdict")
    seen = [indicators[i] for i in node.indicators if i in indicators]
    targeted = [e.status for e in seen if e.status in ("on_track", "off_track")]
    if node.level in DELIVERY_LEVELS and any(e.observed for e in seen):
        # the activity happened; a shortfall against its target is noted, not a failure
        return NodeEvidence(node.id, "achieved", "delivery_below_target" if "off_track" in targeted else "delivery")
    if "on_track" in targeted:
        return NodeEvidence(node.id, "achieved", "target")
    if targeted:
        return NodeEvidence(node.id, "not_achieved", "target")
    return NodeEvidence(node.id, "unknown", "none")


def rate_link(
    pair: tuple[str, str, Link], source: str, target: str, indicators: Mapping[str, IndicatorEvidence]
) -> LinkRating:
    """Rate one (from, to) pair of a causal link (:func:`link_pairs`) from the status of its
    two ends and the link's assumptions."""
    a_id, b_id, link = pair
    off = tuple(
        model_text(a.statement) for a in link.assumptions
        if a.indicator and getattr(indicators.get(a.indicator), "status", None) == "off_track"
    )
    if source == "unknown":
        return LinkRating(a_id, b_id, "untested", "no_evidence_source", off)
    if source != "achieved":
        return LinkRating(a_id, b_id, "untested", "cause_not_achieved", off)
    if target == "unknown":
        return LinkRating(a_id, b_id, "untested", "no_evidence_target", off)
    if target == "contrary":
        return LinkRating(a_id, b_id, "refuted", "effect_contrary", off)
    if target == "not_achieved":
        return LinkRating(a_id, b_id, "weakened", "effect_not_achieved", off)
    if off:
        return LinkRating(a_id, b_id, "weakened", "assumption_off_track", off)
    return LinkRating(a_id, b_id, "supported", "both_achieved", off)


def pathways(model: LogicModel, ratings: Mapping[tuple[str, str], str]) -> tuple[list[Pathway], bool]:
    """Every simple path from an activity to an impact, with its weakest link."""
    graph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in model.nodes)
    graph.add_edges_from((a, b) for a, b, _ in link_pairs(model))
    starts = [n.id for n in model.nodes if n.level == "activity"]
    ends = [n.id for n in model.nodes if n.level == "impact"]
    found: list[Pathway] = []
    for start in starts:
        for end in ends:
            if start not in graph or end not in graph or not nx.has_path(graph, start, end):
                continue
            for path in nx.all_simple_paths(graph, start, end):
                if len(found) >= MAX_PATHWAYS:
                    return found, True
                found.append(_pathway(tuple(path), ratings))
    return found, False


def _pathway(path: tuple[str, ...], ratings: Mapping[tuple[str, str], str]) -> Pathway:
    edges = list(zip(path, path[1:]))
    if not edges:
        return Pathway(path, "untested", None)
    weakest = min(edges, key=lambda e: RATING_ORDER.index(ratings.get(e, "untested")))
    return Pathway(path, ratings.get(weakest, "untested"), weakest)


def analyse(
    model: LogicModel, verdicts: Sequence[Verdict], indicators: Mapping[str, IndicatorEvidence]
) -> ContributionAnalysis:
    """Node evidence, link ratings and pathways of one model."""
    nodes = tuple(node_evidence(n, verdicts, indicators) for n in model.nodes)
    status = {n.node: n.status for n in nodes}
    links = tuple(
        rate_link(pair, status.get(pair[0], "unknown"), status.get(pair[1], "unknown"), indicators)
        for pair in link_pairs(model)
    )
    ratings = {(lk.source, lk.target): lk.rating for lk in links}
    paths, truncated = pathways(model, ratings)
    return ContributionAnalysis(nodes, links, tuple(paths), truncated)
