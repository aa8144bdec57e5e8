"""Errors of the application layer."""

from __future__ import annotations

from tiltak_base.errors import UserError


class TiltakError(UserError):
    """A user error the command line reports as one message, without a traceback.

    ``exit_code`` follows the house convention: 1 for findings (an invalid model, a
    failed check), 2 for usage or input errors.
    """
