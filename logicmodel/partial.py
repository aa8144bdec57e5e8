"""The parts of a model or catalogue file that pass the schema, when the whole does not.

A schema error in one part of a file (a misspelt level in one node, a version written as
a number) must not hide the semantic rules of the other parts, and a designer wants to
see a drawing of a work in progress. :func:`partial` validates each key of the file on
its own and returns a :class:`Partial` that answers the same attributes and methods as
the full object (``model.nodes``, ``model.node(id)``, ``catalogue.indicator_ids``):

* a key that validates is its value;
* a mapping of a schema class (``evaluation``, ``monitoring``) that does not is itself a
  ``Partial``, and so is an item of a list of them (one node, one link) that does not:
  the list keeps every item, at its index in the file;
* anything else that does not validate (a wrong value, a list that is not a list, a
  missing required key) raises :class:`UnparsedPart` when read.

The rules run on a ``Partial`` as on the full object; a rule that reads an unparsed value
raises ``UnparsedPart`` and the rule runner skips it, so a rule sees every value it uses
valid, or does not run. There is no second model: a ``Partial`` is the schema's own
classes with holes that say so.

>>> from logicmodel.model import LogicModel
>>> data = {"id": "draft", "title": "Draft", "version": 1.0, "measure": "VV",
...         "period": {"start": "2012-01"},
...         "nodes": [{"id": "talks", "level": "activity", "title": "Talks"},
...                   {"id": "health", "level": "outcme", "title": "Health"}]}
>>> model = partial(LogicModel, data)
>>> model.measure, model.links, model.node("talks").level
('VV', (), 'activity')
>>> health = model.nodes[1]
>>> health.id, health.failed
('health', frozenset({'level'}))
>>> try:
...     model.version
... except UnparsedPart as exc:
...     print(exc)
'version' has schema errors
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError


class UnparsedPart(Exception):
    """A rule read a value of a file that has schema errors (the rule is then not run)."""

    def __init__(self, part: str) -> None:
        self.part = part
        super().__init__(f"{part!r} has schema errors")


@dataclass(frozen=True, eq=False)
class Partial:
    """An object of ``schema`` with holes: ``parts`` holds the keys that parse (values, or
    ``Partial`` objects for nested mappings), ``failed`` the keys that do not."""

    schema: type[BaseModel]
    parts: Mapping[str, Any]
    failed: frozenset[str]
    given: frozenset[str] = frozenset()

    @property
    def model_fields_set(self) -> set[str]:
        """The keys given in the file (as pydantic's ``model_fields_set``)."""
        return set(self.given)

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
        """True when the key ``name`` validated whole."""
        return name in self.parts and not isinstance(self.parts[name], Partial) and not _holes(self.parts[name])


def complete(items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """``(index, item)`` for the items that passed the schema whole, for a rule that checks
    each item on its own (an item with schema errors is skipped, not the whole rule)."""
    for index, item in enumerate(items):
        if not isinstance(item, Partial):
            yield index, item


def partial(schema: type[BaseModel], data: Mapping[str, Any]) -> Partial:
    """``data`` read by ``schema`` key by key: what validates, and what does not."""
    parts: dict[str, Any] = {}
    failed: set[str] = set()
    given = frozenset(name for name, info in schema.model_fields.items() if (info.alias or name) in data)
    for name, info in schema.model_fields.items():
        key = info.alias or name
        if key not in data:
            if info.is_required():
                failed.add(name)
            else:
                parts[name] = info.get_default(call_default_factory=True)
            continue
        value = _part(schema, name, data[key])
        if value is _FAILED:
            failed.add(name)
        else:
            parts[name] = value
    return Partial(schema, parts, frozenset(failed), given)


_FAILED = object()


def _part(schema: type[BaseModel], name: str, value: Any) -> Any:
    """The value of one key: validated, a Partial (mapping, or list with Partial items), or
    ``_FAILED``."""
    try:
        return _adapter(schema, name).validate_python(value)
    except ValidationError as exc:
        error = exc
    annotation = schema.model_fields[name].annotation
    nested = _schema_of(annotation)
    if nested is not None and isinstance(value, dict):
        return partial(nested, value)
    item_schema = _item_schema(annotation)
    if item_schema is None or not isinstance(value, list) or any(len(e["loc"]) == 0 for e in error.errors()):
        return _FAILED  # a list that is no list, of the wrong length, or of plain values
    items = []
    for item in value:
        try:
            items.append(_item_adapter(item_schema).validate_python(item))
        except ValidationError:
            if not isinstance(item, dict):
                return _FAILED
            items.append(partial(item_schema, item))
    return tuple(items)


def _holes(value: Any) -> bool:
    return isinstance(value, tuple) and any(isinstance(item, Partial) for item in value)


def _is_schema(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _schema_of(annotation: Any) -> type[BaseModel] | None:
    """The schema class of ``X`` or ``X | None`` (not of unions of several classes)."""
    if _is_schema(annotation):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        classes = [a for a in get_args(annotation) if a is not type(None)]
        return classes[0] if len(classes) == 1 and _is_schema(classes[0]) else None
    return None


def _item_schema(annotation: Any) -> type[BaseModel] | None:
    """The schema class of the items of ``tuple[X, ...]`` (or of ``... | None``)."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        annotation = options[0] if len(options) == 1 else None
    if get_origin(annotation) is not tuple:
        return None
    args = get_args(annotation)
    return args[0] if len(args) == 2 and args[1] is Ellipsis and _is_schema(args[0]) else None


@cache
def _adapter(schema: type[BaseModel], name: str) -> TypeAdapter:
    info = schema.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, *info.metadata]) if info.metadata else TypeAdapter(info.annotation)


@cache
def _item_adapter(item_schema: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(item_schema)
