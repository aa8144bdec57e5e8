"""Errors of the application layer."""

from __future__ import annotations


class TiltakError(Exception):
    """A user error the command line reports as one message, without a traceback.

    ``exit_code`` follows the house convention: 1 for findings (an invalid model, a
    failed check), 2 for usage or input errors.
    """

    exit_code = 2

    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]
