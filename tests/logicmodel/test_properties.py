"""Property-based tests: generated valid models load, dump to YAML and load to the same model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logicmodel.catalogue import Catalogue
from logicmodel.model import LogicModel
from logicmodel.yamlsource import dump_yaml, parse_yaml

TRICKY = ["yes", "no", "NO", "on", "off", "null", "~", "true", "1.0", "1e5", "0o17", "0x1F", "12:30", "2012-06-01",
          "2012-06", "#not a comment", "a: b", "- item", "  padded  ", "æøå ÆØÅ", "'quoted'", '"dq"', ".inf", "*alias", "&anchor", "<<"]
texts = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
)
localized = st.one_of(texts, st.builds(lambda nb, en: {"nb": nb, "en": en}, texts, texts), st.builds(lambda en: {"en": en}, texts))
ids = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
months = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(1990, 2100), st.integers(1, 12))
periods = st.one_of(months, st.integers(1990, 2100).map(str), st.builds(lambda y, q: f"{y}-Q{q}", st.integers(1990, 2100), st.integers(1, 4)))
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)
LEVELS = ["input", "activity", "output", "outcome", "impact"]


@st.composite
def nodes(draw):
    names = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    result = []
    for name in names:
        node = {"id": name, "level": draw(st.sampled_from(LEVELS)), "title": draw(localized)}
        if node["level"] == "outcome" and draw(st.booleans()):
            node["horizon"] = draw(st.sampled_from(["short", "medium", "long"]))
        if draw(st.booleans()):
            node["description"] = draw(localized)
        if draw(st.booleans()):
            node["indicators"] = draw(st.lists(ids, max_size=3))
        result.append(node)
    return result


@st.composite
def links(draw, names):
    ref = st.one_of(st.sampled_from(names), st.lists(st.sampled_from(names), min_size=1, max_size=3))
    link = {"from": draw(ref), "to": draw(ref)}
    if draw(st.booleans()):
        link["mechanism"] = draw(localized)
    if draw(st.booleans()):
        link["assumptions"] = draw(st.lists(st.fixed_dictionaries({"statement": localized}, optional={"indicator": ids}), max_size=2))
    if draw(st.booleans()):
        link["risks"] = draw(st.lists(localized, max_size=2))
    if draw(st.booleans()):
        link["lag_months"] = draw(st.integers(0, 240))
    return link


@st.composite
def models(draw):
    node_list = draw(nodes())
    names = [n["id"] for n in node_list]
    data = {
        "id": draw(ids), "title": draw(localized), "version": draw(texts), "measure": draw(st.from_regex(r"[A-Z]{2,4}", fullmatch=True)),
        "period": {"start": draw(months), "end": draw(st.one_of(st.none(), months))}, "nodes": node_list,
        "links": draw(st.lists(links(names), max_size=6)),
    }
    if draw(st.booleans()):
        data["expected_changes"] = [{
            "id": draw(ids), "node": draw(st.sampled_from(names)), "outcome": draw(ids),
            "direction": draw(st.sampled_from(["increase", "decrease"])), "min_change": draw(positive),
            "horizon_months": draw(st.integers(1, 240)),
            "trajectory": draw(st.lists(st.fixed_dictionaries({"period": periods, "value": numbers}), max_size=3)),
        }]
    if draw(st.booleans()):
        data["evaluation"] = {"treatment": {"measure": data["measure"]}, "covariates": draw(st.lists(ids, min_size=1, max_size=4)),
                              "matching": {"ratio": draw(st.integers(1, 5)), "caliper": draw(st.one_of(st.none(), positive))}}
    if draw(st.booleans()):
        data["monitoring"] = {"indicators": draw(st.lists(ids, max_size=3)), "disclosure": {"min_count": draw(st.integers(3, 50))},
                              "targets": [{"indicator": draw(ids), "values": [{"period": draw(periods), "value": draw(numbers)}], "tolerance": draw(st.floats(0, 1))}]}
    if draw(st.booleans()):
        data["costs"] = {"per_participant_nok": draw(st.floats(0, 1e7)), "totals": [{"period": draw(periods), "amount_nok": draw(st.floats(0, 1e9)), "centre_id": draw(st.one_of(st.none(), texts))}]}
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_generated_models_survive_a_yaml_round_trip(data):
    model = LogicModel.model_validate(data)
    text = dump_yaml(model.to_data())
    again = LogicModel.model_validate(parse_yaml(text, "generated.yaml").data)
    assert again == model
    assert dump_yaml(again.to_data()) == text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "id": ids, "title": localized, "source": st.sampled_from(["person_month", "surveys"]),
    "type": st.just("mean"), "column": ids, "filter": texts, "unit": texts,
    "direction": st.sampled_from(["higher_is_better", "lower_is_better", "neutral"]),
    "window_months": st.one_of(st.none(), st.integers(1, 120)),
}), max_size=5))
def test_generated_catalogues_survive_a_yaml_round_trip(indicators):
    catalogue = Catalogue.model_validate({"version": "1", "indicators": indicators})
    text = dump_yaml(catalogue.model_dump(mode="json", by_alias=True, exclude_unset=True))
    assert Catalogue.model_validate(parse_yaml(text).data) == catalogue


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), numbers, texts),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)),
    max_leaves=20,
))
def test_plain_data_round_trips_through_the_loader(value):
    data = {"root": value}
    assert parse_yaml(dump_yaml(data)).data == data


@pytest.mark.parametrize("text", ["'<<': 1\n", '"<<": 1\n', "? '<<'\n: 1\n"])
def test_a_quoted_double_angle_key_is_an_ordinary_key(text):
    # Only a plain << is YAML's merge key; quoted, it is the string "<<" (dump_yaml quotes it).
    assert parse_yaml(text).data == {"<<": 1}
    assert parse_yaml(dump_yaml({"<<": [1, {"<<": None}]})).data == {"<<": [1, {"<<": None}]}


LAYERS = [("input", None), ("activity", None), ("output", None), ("outcome", "short"), ("outcome", "medium"), ("outcome", "long"), ("impact", None)]


@st.composite
def sound_models(draw):
    """Layered models where every node is linked forward and backward: no rule should object."""
    sizes = [draw(st.integers(1, 4)) for _ in LAYERS]
    layers = [[f"n{i}_{k}" for k in range(size)] for i, size in enumerate(sizes)]
    nodes = [
        {"id": node, "level": level, "title": node, **({"horizon": horizon} if horizon else {}), "indicators": ["x"]}
        for (level, horizon), layer in zip(LAYERS, layers) for node in layer
    ]
    links = []
    for upper, lower in zip(layers, layers[1:]):
        for k, node in enumerate(lower):
            links.append({"from": upper[k % len(upper)], "to": node})
        for node in upper:
            links.append({"from": node, "to": draw(st.lists(st.sampled_from(lower), min_size=1, max_size=len(lower), unique=True))})
    return {"id": "sound", "title": "t", "version": "1", "measure": "VV", "period": {"start": "2012-01"},
            "nodes": draw(st.permutations(nodes)), "links": links, "costs": {"per_participant_nok": 1.0}}


@settings(max_examples=60, deadline=None)
@given(sound_models())
def test_sound_layered_models_have_no_rule_errors(data):
    from logicmodel.validation import validate_model

    model = LogicModel.model_validate(data)
    issues = [i for i in validate_model(model) if i.rule != "LM011"]
    assert issues == []
