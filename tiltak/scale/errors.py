"""Errors of matching at scale."""

from __future__ import annotations

from tiltak.errors import TiltakError


class ScaleError(TiltakError):
    """A problem that cannot be solved as asked on the engine (exit code 2)."""

    exit_code = 2
