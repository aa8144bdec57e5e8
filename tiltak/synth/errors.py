"""Errors of the synthetic-register generator."""

from __future__ import annotations

from tiltak.errors import TiltakError


class SynthError(TiltakError):
    """Base class of the generator's user errors (exit code 2: bad input)."""

    exit_code = 2


class SynthConfigError(SynthError, ValueError):
    """A generator parameter is invalid.

    ``parameter`` names the parameter, ``value`` echoes what was given.
    """

    def __init__(self, parameter: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value
