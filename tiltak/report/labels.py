"""The report's labels and method appendix: the ``report`` and ``appendix`` sections of the
text catalogues (:mod:`tiltak_base.catalogue`), one YAML file per language.

``LABELS[lang]`` and ``METHOD_APPENDIX[lang]`` read the catalogue of ``lang``; the
languages are the catalogues found (:func:`languages`), the reference language first.
"""

from __future__ import annotations

from typing import Any

from tiltak_base import catalogue
from tiltak_base.catalogue import SectionView

LABELS = SectionView("report")


class _Appendix(SectionView):
    """The method appendix of a language as (title, text) pairs, in the catalogue's order."""

    def __getitem__(self, lang: str) -> list[tuple[str, str]]:  # type: ignore[override]
        section: dict[str, Any] = super().__getitem__(lang)
        return [(str(part["title"]), str(part["text"])) for part in section.values()]


METHOD_APPENDIX = _Appendix("appendix")


def languages() -> tuple[str, ...]:
    """The report's languages, discovered from the catalogues (the default, bokmål, first)."""
    return catalogue.languages()
