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


def unknown_id(what: str, name: str, ids: list[str], section: str) -> str:
    """The message for a reference ``name`` to no item of ``section`` (ids in file order).

    When ids are repeated (rule LM002), the item that repeats one is often the one that
    was meant, so a suggestion of the repeated id would mislead: the message names the
    repeating items instead.

    >>> unknown_id("node", "motivation", ["talks", "health", "health"], "nodes")
    "unknown node 'motivation'; nodes.2 repeats the id 'health' (first used by nodes.1): if nodes.2 is meant to be 'motivation', give it that id"
    >>> unknown_id("node", "fewer_stay", ["talks", "fewer_stays"], "nodes")
    "unknown node 'fewer_stay'; did you mean 'fewer_stays'? expected one of 'fewer_stays', 'talks'"
    """
    first: dict[str, int] = {}
    repeats: list[tuple[int, str, int]] = []
    for index, item in enumerate(ids):
        if item in first:
            repeats.append((index, item, first[item]))
        else:
            first[item] = index
    close = difflib.get_close_matches(name, list(first), n=1, cutoff=0.5)
    repeated = {item for _, item, _ in repeats}
    if not repeats or (close and close[0] not in repeated):
        return f"unknown {what} '{name}'; {one_of(name, ids)}"
    listed = ", ".join(f"{section}.{i} repeats the id '{item}' (first used by {section}.{j})" for i, item, j in repeats)
    which = f"{section}.{repeats[0][0]}" if len(repeats) == 1 else "one of them"
    return f"unknown {what} '{name}'; {listed}: if {which} is meant to be '{name}', give it that id"
