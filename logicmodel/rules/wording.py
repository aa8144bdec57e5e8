"""Wording shared by rule messages: lists of allowed values with the closest first."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_LISTED = 12


def one_of(name: str, choices: Iterable[str]) -> str:
    """``expected one of 'a', 'b'`` with close matches to ``name`` first, shortened when long."""
    unique = list(dict.fromkeys(choices))
    if not unique:
        return "there is nothing to refer to"
    close = difflib.get_close_matches(name, unique, n=3, cutoff=0.5)
    ordered = close + [c for c in unique if c not in close]
    listed = ", ".join(f"'{c}'" for c in ordered[:MAX_LISTED])
    more = f" (and {len(ordered) - MAX_LISTED} more)" if len(ordered) > MAX_LISTED else ""
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}expected one of {listed}{more}"


def arrow(nodes: Iterable[str]) -> str:
    """``a -> b -> c``."""
    return " -> ".join(nodes)
