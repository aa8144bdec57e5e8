"""Errors of the ``logicmodel`` package (logic models and indicator catalogues)."""

from __future__ import annotations

from tiltak_base.errors import UserError

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from logicmodel.issues import Issue


class LogicModelError(UserError):
    """Base class of every error this package raises on bad input.

    The command line prints ``lines()`` without a traceback and exits with
    ``exit_code`` (1 findings, 2 usage or input error). Subclasses carry
    structured fields (file, line, column, key, value) next to the message.
    """


class SourceError(LogicModelError):
    """A problem with a file's bytes or YAML structure, at a known position.

    ``line`` and ``column`` are 1-based (0 when the whole file is at fault);
    ``path`` is the dotted key path when one is known.
    """

    def __init__(self, file: str, line: int, column: int, message: str, path: str = "") -> None:
        self.file, self.line, self.column = file, line, column
        self.path, self.message = path, message
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class FileUnreadableError(SourceError):
    """The file is missing, is a directory, or cannot be opened."""


class EncodingError(SourceError):
    """The file is not UTF-8 text (invalid bytes or binary content)."""


class YamlSyntaxError(SourceError):
    """The text is not well-formed YAML (including tabs used for indentation)."""


class DuplicateKeyError(SourceError):
    """A mapping holds the same key twice."""


class YamlLimitError(SourceError):
    """The document exceeds a safety limit: size, nesting depth or alias expansion."""


class UnsupportedYamlError(SourceError):
    """A YAML feature the formats do not allow: tags, merge keys, complex keys, streams."""


class DocumentShapeError(SourceError):
    """The document is empty or its root is not a mapping."""


class InvalidDocumentError(LogicModelError):
    """A model or catalogue failed validation; ``issues`` holds every finding."""

    exit_code = 1

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(issue.render() for issue in self.issues))

    def lines(self) -> list[str]:
        return [issue.render() for issue in self.issues]


class UsageError(LogicModelError):
    """A path given on the command line cannot be used (e.g. a folder without models)."""
