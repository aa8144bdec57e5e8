"""The text catalogues: every user-facing text of tiltak, one YAML file per language.

A catalogue is ``<code>.yaml`` (``nb.yaml``, ``nn.yaml``, ``en.yaml``) in a directory of the
search path: the directories of the environment variable ``TILTAK_CATALOGUE_PATH``
(separated by ``os.pathsep``) first, then ``tiltak_base/catalogues`` shipped with the
package. **The languages are the catalogues found**: nothing else in the code names a
language, so a fourth language is one more file. A catalogue is a mapping of sections
(``report``, ``verdicts``, ``reasons``, ``story``, ``terms``, ``diagram``, ...) to texts;
``meta`` holds the language's name, its decimal mark, its quotation marks and the order in
which a model text missing in it falls back to other languages. Every catalogue has the
keys of the reference language (bokmål, ``nb``), kept so by a test.

Texts are ``str.format`` templates with named fields (``{n}``, ``{measure}``).
:func:`render` turns a *message* -- ``{"msg": "story.delivered", "params": {...}}``, what
``evaluation.json`` stores instead of a text -- into the sentence of one language; its
parameters may be numbers, plain strings, a model's text mapping (``{nb: ..., en: ...}``),
``{"term": "verdicts.confirmed"}`` (a catalogue text), a list of titles to chain, or
another message.

This package sits below every layer, so ``logicmodel`` (the diagram's legend),
``monitoring`` and ``tiltak`` read the same catalogues. PyYAML is imported on first use.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tiltak_base.errors import UserError

REFERENCE = "nb"
"""The reference language: every catalogue must have its keys; the default of every command."""
ENVIRONMENT = "TILTAK_CATALOGUE_PATH"
CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
SHIPPED = Path(__file__).with_name("catalogues")


class CatalogueError(UserError):
    """A catalogue file that cannot be read, or a language no catalogue provides."""


def search_path() -> tuple[Path, ...]:
    """The catalogue directories, in the order a language is looked up (first found wins)."""
    extra = [Path(p) for p in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if p.strip()]
    return (*extra, SHIPPED)


def languages() -> tuple[str, ...]:
    """The languages that have a catalogue: the reference language first, then by code.

    >>> languages()[0], {"nb", "nn", "en"} <= set(languages())
    ('nb', True)
    """
    found = _catalogues(search_path())
    return tuple(sorted(found, key=lambda code: (code != REFERENCE, code)))


def catalogue(lang: str) -> dict[str, Any]:
    """The whole catalogue of ``lang``."""
    found = _catalogues(search_path())
    if lang not in found:
        raise CatalogueError(f"language {lang!r}: no catalogue; expected one of {', '.join(languages())}")
    return found[lang]


def section(lang: str, name: str) -> dict[str, Any]:
    """One section of the catalogue of ``lang`` (``report``, ``verdicts``, ...)."""
    return catalogue(lang)[name]


def meta(lang: str, key: str) -> Any:
    """A setting of the language: ``decimal_mark``, ``quote``, ``fallback``, ``name``."""
    return catalogue(lang)["meta"][key]


def text(key: str, lang: str, **params: Any) -> str:
    """The text at a dotted ``key`` (``"story.delivered"``) in ``lang``, formatted with ``params``.

    >>> text("verdicts.confirmed", "nn"), text("verdicts.confirmed", "en")
    ('stadfesta', 'confirmed')
    """
    template = lookup(key, lang)
    if not isinstance(template, str):
        raise CatalogueError(f"catalogue {lang}: {key}: expected a text; got a {type(template).__name__}")
    return template.format(**params) if params else template


def lookup(key: str, lang: str, default: Any = KeyError) -> Any:
    """The value at a dotted ``key`` in ``lang``: a text or a section."""
    value: Any = catalogue(lang)
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            if default is KeyError:
                raise CatalogueError(f"catalogue {lang}: no text {key!r}")
            return default
        value = value[part]
    return value


def has(key: str, lang: str) -> bool:
    return lookup(key, lang, None) is not None


def fallbacks(lang: str) -> tuple[str, ...]:
    """The languages a model text missing in ``lang`` is shown in, in order (``nn``: nb, en)."""
    order = [lang, *(meta(lang, "fallback") or ()), REFERENCE, *languages()]
    return tuple(dict.fromkeys(order))


def pick(value: Any, lang: str) -> str:
    """A model text in ``lang``: a plain string as it is; a mapping in ``lang`` or its fallback.

    >>> pick({"nb": "Samtaler", "en": "Talks"}, "nn"), pick("Samtaler", "en"), pick(None, "en")
    ('Samtaler', 'Samtaler', '')
    """
    if value is None:
        return ""
    if not isinstance(value, Mapping):
        return str(value)
    if value.get(lang):
        return str(value[lang])  # no catalogue read when the text is there (model validation stays cheap)
    for code in fallbacks(lang):
        if value.get(code):
            return str(value[code])
    return next((str(v) for v in value.values() if v), "")


def shown_in(value: Any, lang: str) -> str | None:
    """The language a model text mapping is shown in when it lacks ``lang`` (None: it has it)."""
    if not isinstance(value, Mapping) or value.get(lang):
        return None
    return next((code for code in fallbacks(lang) if value.get(code)), None)


def format_number(value: float | None, decimals: int, lang: str) -> str:
    """A number with fixed decimals, a thin space between thousands, a true minus and the
    language's decimal mark; '–' when missing.

    >>> format_number(-1234.5, 1, "nn"), format_number(0.25, 2, "en")
    ('−1\\u2009234,5', '0.25')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    shown = f"{value:,.{decimals}f}".replace(",", "\u2009").replace("-", "\u2212")
    return shown.replace(".", meta(lang, "decimal_mark"))


def quoted(title: str, lang: str) -> str:
    """A title in the language's quotation marks (« » in Norwegian, “ ” in English)."""
    return meta(lang, "quote").format(title)


def message(key: str, **params: Any) -> dict[str, Any]:
    """A language-neutral message: a catalogue key and its parameters (what a document stores)."""
    return {"msg": key, "params": params}


def is_message(value: Any) -> bool:
    return isinstance(value, Mapping) and "msg" in value


def term(key: str) -> dict[str, str]:
    """A parameter that is a catalogue text (``term("verdicts.confirmed")``)."""
    return {"term": key}


def render(value: Any, lang: str) -> str:
    """A message, a term, a chain, a model text mapping or a plain value as text in ``lang``.

    >>> render(message("story.not_delivered", measure={"nb": "Veien videre"}), "en")
    'There is no monitored evidence that Veien videre was delivered.'
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return text("report.yes" if value else "report.no", lang)
    if isinstance(value, int):
        return format_number(value, 0, lang)
    if isinstance(value, float):
        return format_number(value, 2, lang)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return " → ".join(quoted(render(v, lang), lang) for v in value)
    if is_message(value):
        params = {k: render(v, lang) for k, v in (value.get("params") or {}).items()}
        return text(value["msg"], lang, **params)
    if isinstance(value, Mapping) and set(value) == {"term"}:
        return text(value["term"], lang)
    return pick(value, lang)


def flat_keys(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a catalogue by its dotted key (``report.title``: text)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(flat_keys(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


@functools.lru_cache(maxsize=8)
def _catalogues(path: tuple[Path, ...]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for directory in path:
        if not directory.is_dir():
            continue
        for file in sorted(directory.glob("*.yaml")):
            if file.stem in found or not CODE.fullmatch(file.stem):
                continue
            found[file.stem] = _read(file)
    if REFERENCE not in found:
        raise CatalogueError(f"no catalogue of the reference language {REFERENCE!r} on the search path")
    return found


def _read(file: Path) -> dict[str, Any]:

    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{file}: cannot read the catalogue: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CatalogueError(f"{file}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        raise CatalogueError(f"{file}: expected a mapping of sections with a 'meta' section")
    for key in ("name", "decimal_mark", "quote"):
        if not isinstance(data["meta"].get(key), str):
            raise CatalogueError(f"{file}: meta.{key}: expected a text")
    return data


class SectionView(Mapping):
    """A catalogue section of every language, read as ``{lang: {key: text}}``.

    For code written against per-language tables (``BAND_LABELS[lang][key]``): the
    languages and texts come from the catalogues at each access.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def __getitem__(self, lang: str) -> dict[str, Any]:
        if lang not in languages():
            raise KeyError(lang)
        return lookup(self.key, lang)

    def __iter__(self):
        return iter(languages())

    def __len__(self) -> int:
        return len(languages())
