"""Turning pydantic validation errors into issues at ``file:line:col`` with a key path.

pydantic reports an error location (``loc``) in terms of the schema, which may hold
entries that are not keys of the data (tags of tagged unions). They are dropped by
walking the loc along the loaded data; the position then comes from the
:class:`~logicmodel.yamlsource.YamlDocument`.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from logicmodel.fields import PATTERN_WORDS, UNION_TAGS
from logicmodel.issues import Issue, dotted
from logicmodel.yamlsource import YamlDocument

SCHEMA_RULE = "LM001"

_TYPE_WORDS = {
    "string_type": "a text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "dict_type": "a mapping (key: value lines)",
    "finite_number": "a finite number",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def schema_issues(error: ValidationError, document: YamlDocument, root: type[BaseModel]) -> list[Issue]:
    """One issue per pydantic error, located in ``document``."""
    errors = _without_derived(error.errors(include_url=False))
    return [_issue(err, document, root) for err in errors]


def describe_value(value: Any) -> str:
    """A short echo of a bad value for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _without_derived(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop length errors that only echo invalid items below them."""
    def has_deeper(loc: tuple[Any, ...]) -> bool:
        return any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc for e in errors)

    return [e for e in errors if not (e["type"] in ("too_short", "too_long") and has_deeper(tuple(e["loc"])))]


def _issue(err: dict[str, Any], document: YamlDocument, root: type[BaseModel]) -> Issue:
    loc = tuple(err["loc"])
    path = _data_path(loc, document.data)
    kind = err["type"]
    if kind == "missing":
        where, shown = document.position(path[:-1]), path[:-1]
    elif kind == "extra_forbidden":
        where, shown = document.position(path, key=True), path
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        shown = (*path, "kind") if kind == "union_tag_invalid" else path
        where = document.position(shown)
    else:
        where, shown = document.position(path), path
    message = _message(err, path, _allowed_keys(root, loc[:-1]))
    return Issue(document.file, where.line, where.column, "error", SCHEMA_RULE, dotted(shown), message)


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """The loc without the parts that are not keys of the data (union tags)."""
    path: list[Any] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif part in UNION_TAGS or (isinstance(part, str) and "[" in part) or not last:
            continue
        else:
            current = None
        path.append(part)
    return tuple(path)


def _message(err: dict[str, Any], path: tuple[Any, ...], allowed: list[str]) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, describe_value(err.get("input"))
    name = path[-1] if path else ""
    if kind == "missing":
        return f"missing required key '{name}'"
    if kind == "extra_forbidden":
        return _unknown_key(str(name), allowed)
    if kind == "literal_error":
        return f"expected one of {_quoted_options(ctx.get('expected', ''))}; got {got}"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing required key '{ctx.get('discriminator', 'kind').strip(chr(39))}'"
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
        return f"expected {words}; got {got}"
    if kind == "string_type" and isinstance(err.get("input"), (bool, int, float)):
        return f"expected a text; got {got} (write it in quotes: \"{got}\")"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}; got {got}"
    return _bound_message(kind, ctx, got, err)


def _bound_message(kind: str, ctx: dict[str, Any], got: str, err: dict[str, Any]) -> str:
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"expected a number {_BOUNDS[kind]} {bound}; got {got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s); got {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} item(s); got {ctx.get('actual_length')}"
    if kind == "string_too_short":
        return f"expected a non-empty text; got {got}"
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters; got {len(str(err.get('input')))}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind in ("text_type", "node_ref_type"):
        return f"{err['msg']}; got {got}"
    return f"{err['msg']}; got {got}"


def _quoted_options(expected: str) -> str:
    return expected.replace(" or ", ", ")


def _unknown_key(name: str, allowed: list[str]) -> str:
    message = f"unknown key '{name}'"
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    if allowed:
        message += ("; " if not close else " ") + "allowed keys: " + ", ".join(allowed)
    return message


# ------------------------------------------------------------ walking the schema by loc


def _flatten(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _flatten(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [leaf for arg in get_args(annotation) for leaf in _flatten(arg)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def _step(candidates: list[Any], part: Any) -> list[Any]:
    following: list[Any] = []
    for annotation in candidates:
        origin = get_origin(annotation)
        if isinstance(part, int) and origin in (tuple, list):
            following += _flatten(get_args(annotation)[0])
        elif _is_model(annotation) and part in _fields(annotation):
            following += _flatten(_fields(annotation)[part])
    if following:
        return following
    tagged = [a for a in candidates if _is_model(a) and part in _literal_values(_fields(a).get("kind"))]
    return tagged or [a for a in candidates if _is_model(a) and part in UNION_TAGS]


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    leaves = _flatten(annotation) if annotation is not None else []
    return tuple(value for leaf in leaves if get_origin(leaf) is Literal for value in get_args(leaf))


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (schema loc, tags included)."""
    candidates: list[Any] = [root]
    for part in loc:
        candidates = _step(candidates, part)
    keys: list[str] = []
    for annotation in candidates:
        if _is_model(annotation):
            keys += [key for key in _fields(annotation) if key not in keys]
    return keys
