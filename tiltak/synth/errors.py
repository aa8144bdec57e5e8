"""Errors of the synthetic-register generator."""

from __future__ import annotations

from tiltak.errors import TiltakError


class SynthError(TiltakError):
    """Base class of the generator's user errors (exit code 2: bad input)."""

    exit_code = 2


class SynthConfigError(SynthError, ValueError):
    """A generator parameter is invalid.

    ``parameter`` names the parameter, ``detail`` says what is wrong (expected and got),
    ``value`` echoes what was given. ``for_option`` rewords the message for a command-line
    option.
    """

    def __init__(self, parameter: str, detail: str, value: object = None) -> None:
        super().__init__(f"SynthConfig: {parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail
        self.value = value

    def for_option(self) -> "SynthError":
        """The same error worded for the option ``--<parameter>``."""
        return SynthError(f"--{self.parameter.replace('_', '-')}: {self.detail}")
