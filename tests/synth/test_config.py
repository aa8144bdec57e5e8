"""SynthConfig refuses bad parameters with a message naming the parameter and the value."""

from __future__ import annotations

import pytest

from tiltak.errors import TiltakError
from tiltak.synth import SynthConfig, SynthConfigError


@pytest.mark.parametrize("kwargs, fragment", [
    ({"effect_return": {"VV": -0.5}}, "effect_return: the effect for 'VV' must be an odds ratio > 0; got -0.5"),
    ({"effect_return": {"VV": 0}}, "must be an odds ratio > 0; got 0"),
    ({"effect_return": {"ABC": 1.0}}, "effect_return: unknown measure 'ABC'; expected one of 'VV', 'KVL', 'KVN'"),
    ({"effect_return": {"VV": "2"}}, "effect_return: the effect for 'VV' must be an odds ratio > 0; got '2'"),
    ({"effect_return": [("VV", 1.0)]}, "effect_return: must map measure codes to numbers"),
    ({"effect_hscl": {"KVN": float("nan")}}, "effect_hscl: the effect for 'KVN' must be a finite number; got nan"),
    ({"effect_hscl": {"vv": -0.1}}, "unknown measure 'vv'"),
    ({"seed": -1}, "seed: must be an integer between 0"),
    ({"seed": 1.5}, "seed: must be an integer"),
    ({"seed": True}, "seed: must be an integer"),
    ({"months": 0}, "months: must be an integer between 6 and 240; got 0"),
    ({"scale": 0}, "scale: must be a number between 0.01 and 100; got 0"),
    ({"scale": float("inf")}, "scale: must be a number"),
    ({"centres": 2}, "centres: must be an integer between 3"),
    ({"opening_stock": -5}, "opening_stock: must be an integer between 0"),
    ({"monthly_rejections": -1.0}, "monthly_rejections: must be a number between 0"),
    ({"opening_stock": 0, "monthly_rejections": 0}, "give 0.00 people; expected at least 1"),
    ({"scale": 0.01, "opening_stock": 10, "monthly_rejections": 0}, "give 0.00 people; expected at least 1"),
    ({"hidden_bias": "high"}, "hidden_bias: must be a number between -5 and 5; got 'high'"),
    ({"start": "2012-1"}, "start: must be a month written YYYY-MM"),
    ({"start": "2012-00"}, "start: must be a month written YYYY-MM"),
    ({"start": 201201}, "start: must be a month written YYYY-MM"),
    ({"start": "2024-06", "months": 36}, "months: a window of 36 months from 2024-06 ends after 2025-12"),
])
def test_bad_parameters(kwargs, fragment):
    with pytest.raises(SynthConfigError) as info:
        SynthConfig(**kwargs)
    assert fragment in str(info.value)
    assert isinstance(info.value, TiltakError) and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2


def test_partial_effects_keep_the_defaults():
    config = SynthConfig(effect_return={"KVN": 2.0}, effect_hscl={"KVL": -0.05})
    assert dict(config.effect_return) == {"VV": 1.0, "KVL": 1.0, "KVN": 2.0}
    assert dict(config.effect_hscl) == {"VV": -0.15, "KVL": -0.05, "KVN": 0.0}


def test_config_is_frozen():
    config = SynthConfig()
    with pytest.raises(AttributeError):
        config.seed = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.effect_return["VV"] = 3.0  # type: ignore[index]


def test_scaled_sizes():
    config = SynthConfig(scale=10)
    assert config.n_centres == 300 and config.n_opening == 50_000
    assert config.rejections_per_month == pytest.approx(2200)
