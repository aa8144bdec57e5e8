"""Property-based: any valid configuration gives tables that respect the contract."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiltak.synth import MEASURES, SynthConfig, generate

effects = st.dictionaries(st.sampled_from(MEASURES), st.floats(0.05, 20), max_size=3)
shifts = st.dictionaries(st.sampled_from(MEASURES), st.floats(-1, 1), max_size=3)
configs = st.builds(
    SynthConfig,
    seed=st.integers(0, 2**32), months=st.integers(6, 48), scale=st.floats(0.02, 0.15),
    start=st.sampled_from(["2008-03", "2012-01", "2015-12", "2019-07"]),
    effect_return=effects, effect_hscl=shifts, hidden_bias=st.floats(-2, 2),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs)
def test_any_configuration_respects_the_contract(check_contract, config):
    registers = generate(config)
    assert check_contract(registers) == []
    truth = registers.truth_outcomes
    assert len(truth) == len(registers.tables["participation"])
    # potential outcomes are monotone in the odds ratio only on average, but an odds ratio of
    # exactly 1 must leave every participant's return outcome unchanged
    for measure in MEASURES:
        if config.effect_return[measure] == 1.0:
            rows = truth[truth["measure"] == measure]
            for outcome in ("assisted_return_12m", "application_6m"):
                for arm in ("not_enrolled", "later"):
                    # other measures may have an effect, so only measures without one
                    # anywhere leave the comparison arms equal to the treated arm
                    if all(v == 1.0 for v in config.effect_return.values()):
                        assert (rows[f"{outcome}_treated"] == rows[f"{outcome}_{arm}"]).all()
    hscl = truth[["hscl10_6m_treated", "hscl10_6m_not_enrolled"]].to_numpy()
    assert np.all((hscl >= 1) & (hscl <= 4))
