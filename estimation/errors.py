"""Errors of the ``estimation`` package (propensity score matching and effect estimation)."""

from __future__ import annotations

from tiltak_base.errors import UserError


class EstimationError(UserError):
    """Base class of every error this package raises on bad input.

    The command line prints ``lines()`` without a traceback and exits with
    ``exit_code`` (1 findings, 2 usage or input error). Subclasses carry
    structured fields (file, line, column, key, value) next to the message.
    """
