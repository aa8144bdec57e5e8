"""Rules on the structure of the theory of change: ids, links, cycles, levels, reachability."""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel.graph import backward_edges, find_cycles, isolated_nodes, nodes_at, reachable_from
from logicmodel.model import Link
from logicmodel.rules.registry import Finding, ModelContext, rule
from logicmodel.rules.wording import arrow, unknown_id


def _duplicates(ids: list[str], section: str) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, item in enumerate(ids):
        if item in first:
            yield Finding((section, index, "id"), f"duplicate id '{item}' (first used by {section}.{first[item]}); ids must be unique")
        else:
            first[item] = index


@rule("LM002", "error", "ids of nodes and of expected changes are unique")
def duplicate_ids(ctx: ModelContext) -> Iterator[Finding]:
    yield from _duplicates([n.id for n in ctx.model.nodes], "nodes")
    yield from _duplicates([c.id for c in ctx.model.expected_changes], "expected_changes")


def _link_ends(link: Link, index: int) -> Iterator[tuple[tuple, str]]:
    for key, value in (("from", link.source), ("to", link.to)):
        if isinstance(value, str):
            yield ("links", index, key), value
        else:
            for position, node in enumerate(value):
                yield ("links", index, key, position), node


@rule("LM003", "error", "links connect known nodes")
def unknown_link_nodes(ctx: ModelContext) -> Iterator[Finding]:
    known = [n.id for n in ctx.model.nodes]
    for index, link in enumerate(ctx.model.links):
        for path, node in _link_ends(link, index):
            if node not in known:
                yield Finding(path, unknown_id("node", node, known, "nodes"))


def _link_of(ctx: ModelContext, source: str, target: str) -> tuple:
    index = ctx.graph.edges[source, target]["link"]
    return ("links", index)


@rule("LM004", "error", "links form no cycle")
def cycles(ctx: ModelContext) -> Iterator[Finding]:
    for cycle in find_cycles(ctx.graph):
        closing = (cycle[-1], cycle[0])
        yield Finding(_link_of(ctx, *closing), f"links form a cycle: {arrow(cycle + [cycle[0]])}; a theory of change must not loop back")


def _describe(ctx: ModelContext, node: str) -> str:
    data = ctx.graph.nodes[node]
    horizon = f", {data['horizon']}" if data["level"] == "outcome" and data["horizon"] else ""
    return f"'{node}' ({data['level']}{horizon})"


@rule("LM005", "error", "links run forward in level")
def backward_links(ctx: ModelContext) -> Iterator[Finding]:
    for source, target in backward_edges(ctx.graph):
        yield Finding(
            _link_of(ctx, source, target),
            f"link runs backwards: {_describe(ctx, source)} -> {_describe(ctx, target)}; links go input -> activity -> "
            "output -> outcome (short -> medium -> long) -> impact",
        )


def _node_path(ctx: ModelContext, node: str) -> tuple:
    index = next(i for i, n in enumerate(ctx.model.nodes) if n.id == node)
    return ("nodes", index, "id")


@rule("LM006", "error", "every node is linked")
def isolated(ctx: ModelContext) -> Iterator[Finding]:
    if len(ctx.graph) < 2:
        return
    for node in isolated_nodes(ctx.graph):
        yield Finding(_node_path(ctx, node), f"node '{node}' has no link in or out; link it or remove it")


@rule("LM007", "error", "every outcome and impact is reachable from an activity")
def unreachable_results(ctx: ModelContext) -> Iterator[Finding]:
    reached = reachable_from(ctx.graph, nodes_at(ctx.graph, "activity"))
    for node in nodes_at(ctx.graph, "outcome", "impact"):
        if node not in reached and ctx.graph.degree(node) > 0:
            level = ctx.graph.nodes[node]["level"]
            yield Finding(_node_path(ctx, node), f"{level} '{node}' cannot be reached from any activity; add a link that leads to it")


@rule("LM008", "error", "every activity leads to an outcome or impact")
def activities_without_result(ctx: ModelContext) -> Iterator[Finding]:
    results = set(nodes_at(ctx.graph, "outcome", "impact"))
    for node in nodes_at(ctx.graph, "activity"):
        if ctx.graph.degree(node) > 0 and not (reachable_from(ctx.graph, [node]) & results):
            yield Finding(_node_path(ctx, node), f"activity '{node}' leads to no outcome or impact; link it onwards")


@rule("LM009", "error", "the model has at least one activity and one impact")
def missing_levels(ctx: ModelContext) -> Iterator[Finding]:
    for level in ("activity", "impact"):
        if not nodes_at(ctx.graph, level):
            yield Finding(("nodes",), f"the model has no {level} node; a theory of change runs from activities to an impact")


@rule("LM010", "error", "horizons are given on outcomes only")
def horizons(ctx: ModelContext) -> Iterator[Finding]:
    for index, node in enumerate(ctx.model.nodes):
        if node.level != "outcome" and node.horizon is not None:
            yield Finding(("nodes", index, "horizon"), f"horizon is for outcomes only; node '{node.id}' has level {node.level}")
        elif node.level == "outcome" and node.horizon is None:
            yield Finding(("nodes", index, "level"), f"outcome '{node.id}' has no horizon; add horizon: short, medium or long", "warning")


@rule("LM011", "warning", "each pair of nodes is linked once")
def repeated_links(ctx: ModelContext) -> Iterator[Finding]:
    seen: dict[tuple[str, str], int] = {}
    for index, link in enumerate(ctx.model.links):
        for source in link.sources:
            for target in link.targets:
                if (source, target) in seen:
                    yield Finding(("links", index), f"link {source} -> {target} is already given by links.{seen[source, target]}; merge them")
                else:
                    seen[source, target] = index
