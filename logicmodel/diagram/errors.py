"""Errors raised when a graph cannot be drawn."""

from __future__ import annotations

from logicmodel.errors import LogicModelError


class DiagramError(LogicModelError):
    """A graph handed to a renderer lacks an attribute or holds an unknown value.

    ``element`` names the node or edge (``node 'x'`` or ``edge 'a' -> 'b'``),
    ``key`` the attribute, ``value`` the bad value and ``expected`` what is allowed.
    """

    exit_code = 2

    def __init__(self, element: str, key: str, value: object, expected: str) -> None:
        self.element = element
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(f"{element}: {key}: {expected}; got {value!r}")
