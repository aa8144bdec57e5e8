"""The ``--lang`` option of every command: its choices are the languages of the catalogues.

The choices are read when the option is parsed or its help is shown, not when the command
is imported, so a catalogue put on ``TILTAK_CATALOGUE_PATH`` is a language of every command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tiltak_base.catalogue import REFERENCE, languages


class LanguageChoice(click.Choice):
    """``click.Choice`` over the catalogues found (:func:`tiltak_base.catalogue.languages`)."""

    def __init__(self) -> None:
        super().__init__(())  # nothing read at import: the catalogues are read when needed

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return languages()

    @choices.setter
    def choices(self, _value: Any) -> None:  # click's __init__ assigns it; the catalogues decide
        pass


def lang_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--lang`` with the catalogues' languages as choices and bokmål as the default."""
    return click.option("--lang", type=LanguageChoice(), default=REFERENCE, show_default=True, help=help_text)
