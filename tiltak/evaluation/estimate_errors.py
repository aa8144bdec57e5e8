"""The errors of an estimate that become its ``error`` in the evaluation (the rest of the
model goes on). Shared by :mod:`tiltak.evaluation.design_run` and
:mod:`tiltak.evaluation.curves`."""

from __future__ import annotations


def estimate_errors() -> tuple[type[BaseException], ...]:
    """Errors of an estimate that become its ``error`` (the rest of the model goes on)."""
    import numpy as np
    from estimation.errors import EstimationError

    return (EstimationError, np.linalg.LinAlgError)
