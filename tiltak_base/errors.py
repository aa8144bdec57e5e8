"""The base of every user error: one message per line, an exit code, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """An error caused by the input (a file, a flag, data), reported without a traceback.

    The command line prints :meth:`lines` to standard error and exits with
    ``exit_code``: 1 for findings (an invalid model, a failed check), 2 for usage or input
    errors. Each package derives its own base from this one (``LogicModelError``,
    ``MonitoringError``, ``EstimationError``, ``TiltakError``), and subclasses carry
    structured fields (file, line, column, key, value) next to the message.

    >>> class ExtractError(UserError):
    ...     pass
    >>> ExtractError("persons.csv:3: birth_year: expected a year; got 'x'\\nload refused").lines()
    ["persons.csv:3: birth_year: expected a year; got 'x'", 'load refused']
    >>> ExtractError().lines(), ExtractError().exit_code
    (['ExtractError'], 2)
    """

    exit_code = 2

    def lines(self) -> list[str]:
        """The message, one printed line per element (the class name when empty)."""
        return str(self).splitlines() or [type(self).__name__]
