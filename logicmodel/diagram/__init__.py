"""Diagrams of logic models: SVG drawn in pure Python, plus Graphviz DOT and Mermaid text.

Each renderer draws left to right (``direction="lr"``), top to bottom wrapped to a width
(``"tb"``) or whichever fits (``"auto"``, :mod:`logicmodel.diagram.direction`).
Each renderer takes the ``networkx.DiGraph`` of a model (``logicmodel.graph.to_graph``)
and reads only these attributes: node ``level``, ``horizon``, ``title``, ``verdict``;
edge ``mechanism``, ``lag_months``, ``rating``; graph ``title`` and ``id``.
Only networkx and the standard library are imported, so the command starts fast.
"""

from logicmodel.diagram.direction import DEFAULT_WIDTH, DIRECTIONS
from logicmodel.diagram.dot import to_dot
from logicmodel.diagram.errors import DiagramError
from logicmodel.diagram.mermaid import to_mermaid
from logicmodel.diagram.svg import to_svg

__all__ = ["DEFAULT_WIDTH", "DIRECTIONS", "DiagramError", "to_dot", "to_mermaid", "to_svg"]
