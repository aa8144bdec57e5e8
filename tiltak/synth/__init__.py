"""Synthetic registers with a known truth: the embedded default data of tiltak.

``generate(SynthConfig(...))`` simulates the contract tables of ``docs/architecture.md``
(people obliged to leave in reception centres, measures rolled out to centres,
participation, competing monthly exits, HSCL-10 surveys, costs) together with the ground
truth: every participant's potential outcomes and the true ATT per measure. See
``docs/synthetic-data.md``.
"""

from __future__ import annotations

from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.errors import SynthConfigError, SynthError
from tiltak.synth.registers import SyntheticRegisters, generate

__all__ = ["MEASURES", "SynthConfig", "SynthConfigError", "SynthError", "SyntheticRegisters", "generate"]
