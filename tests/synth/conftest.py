"""Shared generated registers (module-independent, generated once per session)."""

from __future__ import annotations

import pytest

from tiltak.synth import SynthConfig, generate


@pytest.fixture(scope="session")
def default_registers():
    return generate(SynthConfig(seed=11))


@pytest.fixture(scope="session")
def second_registers():
    return generate(SynthConfig(seed=12))
