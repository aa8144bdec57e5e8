"""Findings about a model or catalogue: one ``Issue`` per problem, at a source position."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")


@dataclass(frozen=True, order=True)
class Issue:
    """One finding: where it is (file, 1-based line and column, key path) and what is wrong.

    ``line`` and ``column`` are 0 when the position is unknown (a model built in code).
    """

    file: str
    line: int
    column: int
    severity: Severity
    rule: str
    path: str
    message: str

    def render(self) -> str:
        """The one-line form ``file:line:col: severity RULE key.path: message``."""
        key = f" {self.path}:" if self.path else ":"
        where = f"{self.file}:{self.line}:{self.column}" if self.line > 0 else self.file  # whole-file issues
        return f"{where}: {self.severity} {self.rule}{key} {self.message}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary with the fields in their documented order."""
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def dotted(path: tuple[object, ...] | list[object]) -> str:
    """A key path as text: ``('nodes', 3, 'indicators', 0)`` -> ``nodes.3.indicators.0``."""
    return ".".join(str(part) for part in path)


def sort_issues(issues: list[Issue]) -> list[Issue]:
    """Issues in a stable order: by file, position, rule, key path and message."""
    return sorted(issues, key=lambda i: (i.file, i.line, i.column, i.rule, i.path, i.message))


def count_by_severity(issues: list[Issue]) -> dict[str, int]:
    """How many errors and warnings there are."""
    counts = {severity: 0 for severity in SEVERITIES}
    for issue in issues:
        counts[issue.severity] += 1
    return counts
