"""Position-aware, safe YAML loading and dumping.

``load_yaml(path)`` returns a :class:`YamlDocument`: plain Python data (dicts, lists,
str, int, float, bool, None) together with the 1-based line and column of every key
and value, addressed by key path (``('nodes', 3, 'indicators', 0)``).

Safety and surprise rules, each failure a :class:`~logicmodel.errors.SourceError`
subclass carrying ``file:line:col``:

- bytes must be UTF-8 text (a UTF-8 byte-order mark is allowed): no NUL or control
  characters, at most ``MAX_BYTES``;
- no tab characters in indentation (tabs inside quoted or block text are fine);
- one document whose root is a mapping; an empty file is an error;
- no duplicate keys (PyYAML silently keeps the last one; this loader refuses);
- nesting depth at most ``MAX_DEPTH`` and at most ``MAX_NODES`` values after alias
  expansion (stops "billion laughs" documents); no recursive aliases;
- scalars follow the YAML 1.2 core schema: ``2012-06-01`` stays a string (no implicit
  dates), ``no``/``on``/``yes`` stay strings (country code ``NO`` is not ``False``),
  ``1:20`` is not sexagesimal. Only the standard str/int/float/bool/null tags and no
  merge keys (``<<``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from logicmodel.errors import (
    DocumentShapeError,
    DuplicateKeyError,
    EncodingError,
    FileUnreadableError,
    SourceError,
    UnsupportedYamlError,
    YamlLimitError,
    YamlSyntaxError,
)
from logicmodel.issues import dotted

MAX_BYTES = 5_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

# YAML 1.2 core schema: (tag, pattern, first characters)
_CORE_SCALARS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    ("bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        "float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
)


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in a source file."""

    line: int
    column: int


@dataclass(frozen=True)
class YamlDocument:
    """Data loaded from one YAML file with the source position of every key and value."""

    file: str
    data: dict[str, Any]
    values: Mapping[tuple[Any, ...], Position] = field(repr=False)
    keys: Mapping[tuple[Any, ...], Position] = field(repr=False)

    def position(self, path: Iterable[Any], *, key: bool = False) -> Position:
        """Where ``path`` is: its value (or its key with ``key=True``).

        A path that does not exist (a missing key) falls back to its nearest existing
        parent, so that a message always has a place to point at.
        """
        path = tuple(path)
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))

    def get(self, path: Iterable[Any], default: Any = None) -> Any:
        """The value at ``path`` in the data, or ``default`` when it does not exist."""
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return value


def load_yaml(path: str | os.PathLike[str], *, display: str | None = None) -> YamlDocument:
    """Read and parse one YAML file; ``display`` is the name used in messages.

    >>> document = load_yaml("models/veien-videre.yaml")
    >>> document.data["measure"], document.position(("measure",))
    ('VV', Position(line=20, column=10))
    """
    name = display if display is not None else str(path)
    return parse_yaml(_read_bytes(path, name), name)


def parse_yaml(source: bytes | str, file: str = "<string>") -> YamlDocument:
    """Parse YAML text or bytes into a :class:`YamlDocument` (see the module rules).

    >>> document = parse_yaml("id: mini\\nnodes:\\n  - id: talks\\n", file="mini.yaml")
    >>> document.data, document.position(("nodes", 0, "id"))
    ({'id': 'mini', 'nodes': [{'id': 'talks'}]}, Position(line=3, column=9))
    >>> parse_yaml("id: a\\nid: b\\n", file="mini.yaml")
    Traceback (most recent call last):
      ...
    logicmodel.errors.DuplicateKeyError: mini.yaml:2:1: duplicate key 'id' (first at line 1, column 1); a key may appear only once in a mapping
    """
    text = _decode(source, file) if isinstance(source, bytes) else source
    _check_characters(text, file)
    try:
        root = _build_tree(text, file)
    except YamlSyntaxError as exc:
        _check_tabs(text, file, exc.line or None)
        raise
    data, values, keys = _Expander(file).expand(root)
    return YamlDocument(file=file, data=data, values=values, keys=keys)


# ---------------------------------------------------------------------------- bytes


def _read_bytes(path: str | os.PathLike[str], name: str) -> bytes:
    if os.path.isdir(path):
        raise FileUnreadableError(name, 0, 0, "is a directory; expected a YAML file")
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise FileUnreadableError(name, 0, 0, "is not a regular file (a device or pipe?); expected a YAML file")
        size = info.st_size
        if size > MAX_BYTES:
            raise YamlLimitError(name, 0, 0, f"file is {size} bytes; the limit is {MAX_BYTES} bytes")
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise FileUnreadableError(name, 0, 0, "no such file") from None
    except OSError as exc:
        raise FileUnreadableError(name, 0, 0, f"cannot read the file: {exc.strerror or exc}") from None


def _line_col_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    return line, len(raw[start:offset].decode("utf-8", errors="replace")) + 1


def _decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_BYTES:
        raise YamlLimitError(file, 0, 0, f"file is larger than the limit of {MAX_BYTES} bytes")
    if b"\x00" in raw:
        line, col = _line_col_of_byte(raw, raw.index(b"\x00"))
        raise EncodingError(
            file, line, col, "binary data (NUL byte); expected UTF-8 YAML text (UTF-16 files must be saved as UTF-8)"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col_of_byte(raw, exc.start)
        bad = raw[exc.start : exc.start + 1].hex()
        raise EncodingError(file, line, col, f"not UTF-8: invalid byte 0x{bad}; save the file as UTF-8") from None


def _check_characters(text: str, file: str) -> None:
    match = _CONTROL.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        code = f"U+{ord(match.group()):04X}"
        raise EncodingError(file, line, col, f"control character {code}; expected printable UTF-8 text (is this a binary file?)")


def _check_tabs(text: str, file: str, up_to_line: int | None) -> None:
    """Explain a syntax error caused by a tab in the indentation of the error's line (or the one before).

    Tabs inside quoted or block text are fine, so this runs only after the parser failed.
    """
    lines = text.splitlines()
    first = max(1, up_to_line - 1) if up_to_line else 1
    last = up_to_line or len(lines)
    for number, line in enumerate(lines[first - 1 : last], start=first):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            col = indent.index("\t") + 1
            raise YamlSyntaxError(file, number, col, "tab character in indentation; YAML indentation must use spaces")


# ---------------------------------------------------------------------------- events


@dataclass(slots=True)
class _Node:
    """A node of the composed tree, before alias expansion."""

    kind: str  # "map", "seq", "scalar" or "alias"
    line: int
    column: int
    value: Any = None  # scalar value; alias target; list of children; list of (key, key node, node)
    raw: str = ""  # a scalar's source text (used for keys)
    plain: bool = False  # a plain (unquoted, untagged) scalar: only such a '<<' is a merge key


def _events(text: str, file: str) -> Iterator[yaml.Event]:
    try:
        yield from yaml.parse(text, Loader=_PARSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        detail = exc.problem or exc.context or "malformed YAML"
        if "nesting depth" in detail:  # PyYAML >= 6.0.4 has a depth limit of its own
            raise YamlLimitError(file, line, col, f"nesting deeper than {MAX_DEPTH} levels") from None
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise YamlSyntaxError(file, line, col, f"invalid YAML: {detail}{context}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(file, 0, 0, f"invalid YAML: {exc}") from None


def _build_tree(text: str, file: str) -> _Node:
    builder = _TreeBuilder(file)
    for event in _events(text, file):
        builder.feed(event)
    if builder.root is None or (builder.root.kind == "scalar" and builder.root.value is None):
        raise DocumentShapeError(file, 1, 1, "empty file; expected a YAML mapping (key: value lines)")
    if builder.root.kind != "map":
        what = {"seq": "a list", "scalar": "a single value", "alias": "an alias"}[builder.root.kind]
        raise DocumentShapeError(
            file, builder.root.line, builder.root.column, f"the document is {what}; expected a mapping (key: value lines)"
        )
    return builder.root


@dataclass(slots=True)
class _Frame:
    """An open mapping or sequence while events are read."""

    node: _Node
    path: tuple[Any, ...]
    anchor: str | None
    seen: dict[str, _Node] = field(default_factory=dict)
    key: tuple[str, _Node] | None = None  # a mapping key waiting for its value


class _TreeBuilder:
    """Turns parser events into a tree of :class:`_Node`, checking keys, tags and depth."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.root: _Node | None = None
        self.documents = 0
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Node | None] = {}

    def error(self, cls: type[SourceError], event: yaml.Event, message: str) -> SourceError:
        mark = event.start_mark
        path = _short_path(self.child_path()) if self.stack else ""
        return cls(self.file, mark.line + 1, mark.column + 1, message, path)

    def feed(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            node = self.scalar(event)
            if event.anchor:
                self.anchors[event.anchor] = node
            self.attach(node, event)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.start_collection(event)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = frame.node
            self.attach(frame.node, event)
        elif kind is yaml.AliasEvent:
            self.attach(self.alias(event), event)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise self.error(UnsupportedYamlError, event, "a second YAML document ('---'); expected exactly one")

    def start_collection(self, event: yaml.CollectionStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self.error(YamlLimitError, event, f"nesting deeper than {MAX_DEPTH} levels")
        kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        if event.tag not in (None, "!", _TAG + kind):
            raise self.error(UnsupportedYamlError, event, f"tag '{_short_tag(event.tag)}' is not supported; remove it")
        node = _Node(kind, event.start_mark.line + 1, event.start_mark.column + 1, [])
        if event.anchor:
            self.anchors[event.anchor] = None  # in progress: an alias to it would recurse
        self.stack.append(_Frame(node, self.child_path(), event.anchor))

    def child_path(self) -> tuple[Any, ...]:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if frame.node.kind == "seq":
            return (*frame.path, len(frame.node.value))
        return (*frame.path, frame.key[0]) if frame.key else frame.path

    def scalar(self, event: yaml.ScalarEvent) -> _Node:
        line, col = event.start_mark.line + 1, event.start_mark.column + 1
        tag = event.tag
        if tag in (None, "!") or event.implicit[0]:
            value = _resolve_scalar(event.value) if event.implicit[0] else event.value
        elif tag.startswith(_TAG) and tag[len(_TAG) :] in ("str", "int", "float", "bool", "null"):
            value = _construct_tagged(event.value, tag[len(_TAG) :], self.file, line, col)
        else:
            raise self.error(UnsupportedYamlError, event, f"tag '{_short_tag(tag)}' is not supported; remove it")
        return _Node("scalar", line, col, value, event.value, plain=bool(event.implicit[0]))

    def alias(self, event: yaml.AliasEvent) -> _Node:
        if event.anchor not in self.anchors:
            raise self.error(YamlSyntaxError, event, f"alias '*{event.anchor}' refers to no anchor '&{event.anchor}' defined before it")
        target = self.anchors[event.anchor]
        if target is None:
            raise self.error(YamlLimitError, event, f"alias '*{event.anchor}' refers to itself (recursive alias)")
        return _Node("alias", event.start_mark.line + 1, event.start_mark.column + 1, target)

    def attach(self, node: _Node, event: yaml.Event) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        if frame.node.kind == "seq":
            frame.node.value.append(node)
        elif frame.key is not None:
            key, key_node = frame.key
            frame.node.value.append((key, key_node, node))
            frame.key = None
        else:
            frame.key = (self.mapping_key(node, frame.seen, event), node)

    def mapping_key(self, node: _Node, seen: dict[str, _Node], event: yaml.Event) -> str:
        target = node.value if node.kind == "alias" else node
        if target.kind != "scalar":
            raise self.error(UnsupportedYamlError, event, "a list or mapping used as a key; keys must be plain names")
        key = target.raw
        if key == "<<" and node.kind == "scalar" and node.plain:
            raise self.error(UnsupportedYamlError, event, "merge keys ('<<') are not supported; write the keys out")
        if key in seen:
            first = seen[key]
            raise self.error(
                DuplicateKeyError,
                event,
                f"duplicate key '{key}' (first at line {first.line}, column {first.column}); "
                "a key may appear only once in a mapping",
            )
        seen[key] = node
        return key


def _short_path(path: tuple[Any, ...]) -> str:
    """A key path for messages, shortened when absurdly deep."""
    return dotted(path) if len(path) <= 8 else f"{dotted(path[:4])}...({len(path)} levels)"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


_SCALAR_STARTS = frozenset("~nNtTfF-+.0123456789")


def _resolve_scalar(text: str) -> Any:
    if text and text[0] not in _SCALAR_STARTS:
        return text
    for tag, pattern, _ in _CORE_SCALARS:
        if pattern.match(text):
            return _construct_core(text, tag)
    return text


def _construct_core(text: str, tag: str) -> Any:
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() == "true"
    if tag == "int":
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text, 16) if text.startswith("0x") else int(text)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if lowered == ".nan" else float(text)


def _construct_tagged(text: str, tag: str, file: str, line: int, col: int) -> Any:
    if tag == "str":
        return text
    for core_tag, pattern, _ in _CORE_SCALARS:
        if core_tag == tag and pattern.match(text):
            return _construct_core(text, tag)
    raise YamlSyntaxError(file, line, col, f"'{text}' is not a valid !!{tag} value")


# ---------------------------------------------------------------------------- expansion


class _Expander:
    """Turns the node tree into plain data and positions, expanding aliases within limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.values: dict[tuple[Any, ...], Position] = {}
        self.keys: dict[tuple[Any, ...], Position] = {}

    def expand(self, root: _Node) -> tuple[dict[str, Any], dict[tuple[Any, ...], Position], dict[tuple[Any, ...], Position]]:
        data = self.value(root, (), Position(root.line, root.column))
        return data, self.values, self.keys

    def value(self, node: _Node, path: tuple[Any, ...], where: Position) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlLimitError(
                self.file, where.line, where.column, f"more than {MAX_NODES} values after expanding aliases (an alias bomb?)", _short_path(path)
            )
        if len(path) > MAX_DEPTH:
            raise YamlLimitError(self.file, where.line, where.column, f"nesting deeper than {MAX_DEPTH} levels", _short_path(path))
        self.values[path] = where
        if node.kind == "alias":
            return self.value(node.value, path, where)
        if node.kind == "scalar":
            return node.value
        if node.kind == "seq":
            return [self.value(child, (*path, i), Position(child.line, child.column)) for i, child in enumerate(node.value)]
        result: dict[str, Any] = {}
        for key, key_node, child in node.value:
            self.keys[(*path, key)] = Position(key_node.line, key_node.column)
            result[key] = self.value(child, (*path, key), Position(child.line, child.column))
        return result


# ---------------------------------------------------------------------------- dumping


class CoreDumper(yaml.SafeDumper):
    """A safe dumper that quotes exactly the strings the loader would not read back as strings."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in _CORE_SCALARS:
    CoreDumper.add_implicit_resolver(_TAG + _tag, _pattern, list(_first) + ([""] if _tag == "null" else []))
# A plain << is read as a merge key (and refused): the string "<<" is written quoted.
CoreDumper.add_implicit_resolver(_TAG + "merge", re.compile(r"^<<$"), ["<"])


_QUOTE_ALWAYS = re.compile("[\r\x85\u2028\u2029\ufeff]|" + _CONTROL.pattern)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Characters YAML treats as line breaks or forbids are escaped inside double quotes.
    style = '"' if _QUOTE_ALWAYS.search(value) else None
    return dumper.represent_scalar(_TAG + "str", value, style=style)


CoreDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text for plain data that :func:`parse_yaml` reads back to equal data.

    >>> text = dump_yaml({"id": "mini", "version": "1.0", "nodes": [{"id": "talks"}]})
    >>> print(text, end="")
    id: mini
    version: '1.0'
    nodes:
    - id: talks
    >>> parse_yaml(text).data == {"id": "mini", "version": "1.0", "nodes": [{"id": "talks"}]}
    True
    """
    return yaml.dump(data, Dumper=CoreDumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
