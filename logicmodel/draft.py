"""The drawing of a draft: what a model file holds that can be drawn, with its problems.

A designer wants to see a work in progress. :func:`draft_graph` builds the graph of
:func:`logicmodel.graph.to_graph` from a model that may have schema errors (a
:class:`~logicmodel.partial.Partial`): every node whose ``id`` and ``level`` parse (its id
as title when the title does not), every link whose ends parse and name drawn nodes, and
each validation issue as a text in the ``problems`` attribute of the node or edge it is
about (the node of ``nodes.3...``, the edges of ``links.2...``, the node of the expected
change ``expected_changes.1...``) or else of the graph. The renderers of
:mod:`logicmodel.diagram` mark them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from logicmodel.fields import text_in
from logicmodel.graph import _edge_attributes
from logicmodel.issues import Issue
from logicmodel.model import LogicModel
from logicmodel.partial import Partial, UnparsedPart


def draft_graph(data: Mapping[str, Any], model: LogicModel | Partial, issues: Sequence[Issue],
                model_file: str, lang: str) -> nx.DiGraph:
    """The graph of what can be drawn of a model file, its problems attached.

    ``data`` is the file's data, ``model`` the validated model or its parts, ``issues``
    every issue of the validation (other files' issues are listed on the graph).
    """
    graph = nx.DiGraph(**_graph_attributes(data, model, model_file, lang), problems=[])
    for node in _read(lambda: model.nodes, ()):
        node_id, level = _read(lambda: node.id), _read(lambda: node.level)
        if node_id is None or level is None or node_id in graph:
            continue
        graph.add_node(node_id, level=level, horizon=_read(lambda: node.horizon),
                       title=text_in(_read(lambda: node.title), lang) or node_id,
                       description=text_in(_read(lambda: node.description), lang),
                       indicators=list(_read(lambda: node.indicators, ())), problems=[])
    for index, link in enumerate(_read(lambda: model.links, ())):
        attributes = _read(lambda: _edge_attributes(link, index, lang)) or {"link": index}
        for source in _read(lambda: link.sources, ()):
            for target in _read(lambda: link.targets, ()):
                if source in graph and target in graph and not graph.has_edge(source, target):
                    graph.add_edge(source, target, **attributes, problems=[])
    for issue in issues:
        _attach(graph, data, issue, model_file)
    return graph


def _read(get: Any, default: Any = None) -> Any:
    """``get()``, or ``default`` when it reads a value with schema errors."""
    try:
        return get()
    except UnparsedPart:
        return default


def _graph_attributes(data: Mapping[str, Any], model: Any, model_file: str, lang: str) -> dict[str, Any]:
    stem = os.path.splitext(os.path.basename(model_file))[0]
    graph_id = _read(lambda: model.id) or stem
    return {"id": graph_id, "title": text_in(_read(lambda: model.title), lang) or graph_id,
            "measure": _read(lambda: model.measure), "version": _read(lambda: model.version), "lang": lang}


def _raw_items(data: Mapping[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    return value if isinstance(value, list) else []


def problem_text(issue: Issue, model_file: str) -> str:
    """An issue as a problem text: ``line 17: error LM002 nodes.2.id: ...`` (the file is
    named when it is not the model file)."""
    same = os.path.realpath(issue.file) == os.path.realpath(model_file)
    where = ("" if same else f"{issue.file} ") + (f"line {issue.line}: " if issue.line > 0 else "")
    key = f" {issue.path}:" if issue.path else ":"
    return f"{where}{issue.severity} {issue.rule}{key} {issue.message}"


def _attach(graph: nx.DiGraph, data: Mapping[str, Any], issue: Issue, model_file: str) -> None:
    text = problem_text(issue, model_file)
    parts = issue.path.split(".") if issue.path else []
    if os.path.realpath(issue.file) == os.path.realpath(model_file) and len(parts) >= 2 and parts[1].isdigit():
        section, index = parts[0], int(parts[1])
        items = _raw_items(data, section)
        raw = items[index] if index < len(items) else None
        node = _node_of(section, raw)
        if node is not None and node in graph:
            graph.nodes[node]["problems"].append(text)
            return
        edges = [(u, v) for u, v, link in graph.edges(data="link") if section == "links" and link == index]
        if edges:
            for u, v in edges:
                graph.edges[u, v]["problems"].append(text)
            return
    graph.graph["problems"].append(text)


def _node_of(section: str, raw: Any) -> str | None:
    """The node a problem of an item is about: the node itself, or an expected change's."""
    if not isinstance(raw, dict):
        return None
    key = {"nodes": "id", "expected_changes": "node"}.get(section)
    value = raw.get(key) if key else None
    return value if isinstance(value, str) else None
