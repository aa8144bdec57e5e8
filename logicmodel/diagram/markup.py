"""Small pieces of SVG markup shared by the drawing and its legend."""

from __future__ import annotations

from xml.sax.saxutils import escape

from logicmodel.diagram.routing import format_number as num


def attr(value: object) -> str:
    """Escape a value for a double-quoted XML attribute."""
    return escape(str(value), {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})


def rectangle(x: float, y: float, width: float, height: float) -> str:
    """Polygon points of a rectangle (backgrounds and swatches are polygons; only boxes are rects)."""
    right, bottom = x + width, y + height
    return f"{num(x)},{num(y)} {num(right)},{num(y)} {num(right)},{num(bottom)} {num(x)},{num(bottom)}"


def text_element(x: float, y: float, content: str, size: float, extra: str = "") -> str:
    """A ``<text>`` element with escaped content; ``extra`` holds further attributes."""
    more = f" {extra}" if extra else ""
    return f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}"{more}>{escape(content)}</text>'
