"""The parts of a model or catalogue file that pass the schema, when the whole does not.

A schema error in one part of a file (a misspelt level in one node, a version written as
a number) must not hide the semantic rules of the other parts, and a designer wants to
see a drawing of a work in progress. :func:`partial` validates each top-level key of the
file on its own and returns a :class:`Partial`: the keys that validated whole, with
their values, and the keys that did not.

The rules run on a ``Partial`` as on the full object: it answers the same attributes and
methods (``model.nodes``, ``model.node(id)``, ``catalogue.indicator_ids``). Reading a key
that failed raises :class:`UnparsedPart`, and the rule runner then skips that rule, so a
rule sees either a key whole or not at all, never a list with holes (its key paths stay
those of the file). For a draft drawing, :attr:`Partial.items` also keeps, for list
keys that failed, the items that validated on their own.

>>> from logicmodel.model import LogicModel
>>> data = {"id": "draft", "title": "Draft", "version": 1.0, "measure": "VV",
...         "period": {"start": "2012-01"},
...         "nodes": [{"id": "talks", "level": "activity", "title": "Talks"},
...                   {"id": "health", "level": "outcme", "title": "Health"}]}
>>> model = partial(LogicModel, data)
>>> sorted(model.failed)
['nodes', 'version']
>>> model.measure, model.links
('VV', ())
>>> [(index, node.id) for index, node in model.items["nodes"]]
[(0, 'talks')]
>>> try:
...     model.node("talks")
... except UnparsedPart as exc:
...     print(exc)
'nodes' has schema errors
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError


class UnparsedPart(Exception):
    """A rule read a part of a file that has schema errors (the rule is then not run)."""

    def __init__(self, part: str) -> None:
        self.part = part
        super().__init__(f"{part!r} has schema errors")


@dataclass(frozen=True)
class Partial:
    """The top-level keys of a file that validated whole (``parts``) and those that did not.

    Attributes and methods of ``schema`` are answered from ``parts``; a failed key raises
    :class:`UnparsedPart`. ``items`` holds, per failed list key, ``(index, item)`` for each
    item that validated on its own (for drawings of drafts; rules never see them).
    """

    schema: type[BaseModel]
    parts: Mapping[str, Any]
    failed: frozenset[str]
    items: Mapping[str, tuple[tuple[int, Any], ...]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self.parts:
            return self.parts[name]
        if name in self.schema.model_fields:
            raise UnparsedPart(name)
        member = getattr(self.schema, name, None)  # methods and properties of the schema
        if isinstance(member, property):
            return member.fget(self)
        if isinstance(member, types.FunctionType):
            return types.MethodType(member, self)
        raise AttributeError(f"{self.schema.__name__} has no attribute {name!r}")

    def parsed(self, name: str) -> bool:
        """True when the top-level key ``name`` validated whole."""
        return name in self.parts


def partial(schema: type[BaseModel], data: Mapping[str, Any], error: ValidationError | None = None) -> Partial:
    """The parts of ``data`` that ``schema`` accepts, key by key (``error``: the whole
    document's validation error, when already known)."""
    if error is None:
        try:
            return Partial(schema, dict(schema.model_validate(data)), frozenset())
        except ValidationError as exc:
            error = exc
    names = {(info.alias or name): name for name, info in schema.model_fields.items()}
    failing = {names[loc[0]] for loc in _locations(error) if loc and loc[0] in names}
    parts: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        key = info.alias or name
        if name in failing:
            continue
        if key not in data:
            if info.is_required():
                failing.add(name)
            else:
                parts[name] = info.get_default(call_default_factory=True)
            continue
        try:
            parts[name] = _adapter(schema, name).validate_python(data[key])
        except ValidationError:
            failing.add(name)
    items = {name: _valid_items(schema, name, data.get(schema.model_fields[name].alias or name)) for name in failing}
    return Partial(schema, parts, frozenset(failing), {k: v for k, v in items.items() if v is not None})


def _locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(e["loc"]) for e in error.errors(include_url=False)]


@cache
def _adapter(schema: type[BaseModel], name: str) -> TypeAdapter:
    info = schema.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, *info.metadata]) if info.metadata else TypeAdapter(info.annotation)


@cache
def _item_adapter(schema: type[BaseModel], name: str) -> TypeAdapter | None:
    """The adapter of one item of a list key (``tuple[X, ...]``), or None."""
    annotation = schema.model_fields[name].annotation
    if get_origin(annotation) is not tuple:
        return None
    args = get_args(annotation)
    return TypeAdapter(args[0]) if len(args) == 2 and args[1] is Ellipsis else None


def _valid_items(schema: type[BaseModel], name: str, value: Any) -> tuple[tuple[int, Any], ...] | None:
    adapter = _item_adapter(schema, name)
    if adapter is None or not isinstance(value, list):
        return None
    found = []
    for index, item in enumerate(value):
        try:
            found.append((index, adapter.validate_python(item)))
        except ValidationError:
            continue
    return tuple(found)
