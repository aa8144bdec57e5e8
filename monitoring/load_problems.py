"""Problems found in an extract, and the error that refuses a load.

Every problem has a location (``file:row:column``), a kind (the check that found it) and a
message. A load collects all problems before it refuses; the listing shows the first
``PER_KIND`` of each kind and counts the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitoring.errors import MonitoringError

PER_KIND = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract."""

    file: str
    kind: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        location = self.file
        if self.row is not None:
            location += f":{self.row}"
        if self.column is not None:
            location += f":{self.column}"
        return f"{location}: {self.message}"


@dataclass
class ProblemList:
    """Problems grouped by (file, kind, column), with the full count of each group."""

    shown: list[Problem] = field(default_factory=list)
    hidden: dict[tuple[str, str, str | None], int] = field(default_factory=dict)
    _counts: dict[tuple[str, str, str | None], int] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        self.add_many([problem], total=1)

    def add_many(self, problems: list[Problem], *, total: int) -> None:
        """Add the first problems of one group, knowing that ``total`` exist in all."""
        if total <= 0:
            return
        first = problems[0]
        group = (first.file, first.kind, first.column)
        room = PER_KIND - self._counts.get(group, 0)
        shown = problems[: max(room, 0)]
        self.shown.extend(shown)
        self._counts[group] = self._counts.get(group, 0) + len(shown)
        if total > len(shown):
            self.hidden[group] = self.hidden.get(group, 0) + total - len(shown)

    @property
    def total(self) -> int:
        return len(self.shown) + sum(self.hidden.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        """One line per shown problem, with 'and N more' after a capped group."""
        last = {(p.file, p.kind, p.column): i for i, p in enumerate(self.shown)}
        out: list[str] = []
        for i, problem in enumerate(self.shown):
            out.append(str(problem))
            group = (problem.file, problem.kind, problem.column)
            if last[group] == i and group in self.hidden:
                out.append(_more(group, self.hidden[group]))
        out.extend(_more(g, n) for g, n in self.hidden.items() if g not in last)
        return out


def _more(group: tuple[str, str, str | None], count: int) -> str:
    file, kind, column = group
    where = f"{file}:{column}" if column else file
    return f"{where}: ... and {count} more problem{'s' if count != 1 else ''} of this kind ({kind})"


class LoadRefused(MonitoringError):
    """The extract breaks the contract; nothing was written to the store."""

    exit_code = 2

    def __init__(self, source: str, problems: ProblemList) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        count = self.problems.total
        head = (
            f"Refused to load {self.source}: {count} problem{'s' if count != 1 else ''}; "
            "the store was not changed."
        )
        return [head, *self.problems.lines()]


class ExtractError(MonitoringError):
    """A load cannot start: no such folder, a missing key, an unusable store."""

    exit_code = 2
