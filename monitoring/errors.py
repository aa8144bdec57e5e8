"""Errors of the ``monitoring`` package (register data, the store and monitoring)."""

from __future__ import annotations


class MonitoringError(Exception):
    """Base class of every error this package raises on bad input.

    The command line prints ``lines()`` without a traceback and exits with
    ``exit_code`` (1 findings, 2 usage or input error). Subclasses carry
    structured fields (file, line, column, key, value) next to the message.
    """

    exit_code = 2

    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]
