"""The errors of an estimate that become its ``error`` in the evaluation (the rest of the
model goes on). Shared by :mod:`tiltak.evaluation.design_run` and
:mod:`tiltak.evaluation.curves`."""

from __future__ import annotations

import re

from estimation.errors import EstimationError


def estimate_errors() -> tuple[type[BaseException], ...]:
    """Errors of an estimate that become its ``error`` (the rest of the model goes on)."""
    import numpy as np

    return (EstimationError, np.linalg.LinAlgError)


_PEOPLE = re.compile(r"\b(\d+)(?= (?:matched |treated |control |comparison )?"
                     r"(?:units?|persons?|participants?|people|controls?)\b)")


def published_error(message: str | None, min_count: int) -> str | None:
    """An estimate's error as it is published: a count of people or units in it below the
    model's ``min_count`` (e.g. estimation's "2 units for 2 coefficients") is said as
    "fewer than N", as every other published count."""
    if message is None:
        return None
    return _PEOPLE.sub(lambda m: m.group(1) if not 0 < int(m.group(1)) < min_count
                       else f"fewer than {min_count}", message)
