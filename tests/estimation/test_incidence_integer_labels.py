"""aalen_johansen with integer unit and cluster labels (round 9: taken as integers, without an
object copy) and with several horizons (what the horizons share computed once): the same curve,
influence functions, labels and errors, bit for bit, as with the same labels as objects and as
one horizon at a time."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from estimation.errors import EstimationError
from estimation.incidence import aalen_johansen


def _bits(curve) -> bytes:
    """Every field of the curve, pickled without the memo (values, dtypes and Python types)."""
    fields = {name: getattr(curve, name) for name in curve.__dataclass_fields__}
    fields["clusters"] = dict(fields["clusters"])
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(fields)
    return out.getvalue()


def _counting_rows(seed: int = 5, units: int = 80):
    """Units followed in monthly rows (entry, time], the last row ending in an event or not."""
    rng = np.random.default_rng(seed)
    entry, time, event, weight, unit = [], [], [], [], []
    for u in rng.permutation(units) * 7 + 3:  # integer labels, not 0..n-1, in no order
        end = float(np.floor(rng.exponential(120)) + 1)
        cuts = np.unique(np.r_[np.arange(0.0, end, 30.0), end])
        state = int(rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]))
        for j, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
            entry.append(a), time.append(b), weight.append(round(float(rng.uniform(0.5, 2)), 3))
            unit.append(u), event.append(state if j == len(cuts) - 2 else 0)
    order = rng.permutation(len(time))
    return {k: np.asarray(v)[order] for k, v in
            (("entry", entry), ("time", time), ("event", event), ("weight", weight), ("unit", unit))}


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16])
def test_integer_units_and_clusters_give_the_object_labels_curve_bit_for_bit(dtype):
    rows = _counting_rows()
    person = rows["unit"] // 2  # two units a person
    horizons = [30.0, 90.0, 180.0]

    def curve(unit, person_labels, set_labels):
        return aalen_johansen(rows["time"], rows["event"], cause=1, weights=rows["weight"], entry=rows["entry"],
                              unit=unit, horizons=horizons, clusters={"person": person_labels, "set": set_labels})

    as_objects = curve(rows["unit"].astype(object), person.astype(object), (rows["unit"] % 5).astype(object))
    as_integers = curve(rows["unit"].astype(dtype), person.astype(dtype), (rows["unit"] % 5).astype(dtype))
    assert _bits(as_integers) == _bits(as_objects)
    assert as_integers.units.dtype == object and type(as_integers.units[0]) is int
    assert type(as_integers.clusters["person"][0]) is int


def test_boolean_cluster_labels_are_those_of_the_objects():
    rows = _counting_rows(seed=8)
    flag = rows["unit"] % 3 == 0

    def curve(labels):
        return aalen_johansen(rows["time"], rows["event"], cause=2, weights=rows["weight"], entry=rows["entry"],
                              unit=rows["unit"], horizons=[60.0], clusters={"flag": labels})

    assert _bits(curve(flag)) == _bits(curve(flag.astype(object)))


def test_several_horizons_give_each_horizon_alone():
    rows = _counting_rows(seed=11)
    horizons = [1.0, 29.5, 30.0, 45.0, 120.0, 400.0]
    together = aalen_johansen(rows["time"], rows["event"], cause=1, weights=rows["weight"], entry=rows["entry"],
                              unit=rows["unit"], horizons=horizons)
    for k, h in enumerate(horizons):
        alone = aalen_johansen(rows["time"], rows["event"], cause=1, weights=rows["weight"], entry=rows["entry"],
                               unit=rows["unit"], horizons=[h])
        assert together.influence[:, k].tobytes() == alone.influence[:, 0].tobytes()


@pytest.mark.parametrize("as_objects", [False, True])
def test_an_integer_cluster_changing_within_a_unit_is_the_same_error(as_objects):
    rows = _counting_rows(seed=2)
    changing = np.arange(len(rows["unit"]))  # a new label on every row: units with several rows change
    labels = changing.astype(object) if as_objects else changing
    with pytest.raises(EstimationError, match=r"clusters\['set'\] changes within a unit; a unit belongs to one cluster"):
        aalen_johansen(rows["time"], rows["event"], cause=1, entry=rows["entry"], unit=rows["unit"],
                       horizons=[30.0], clusters={"set": labels})


def test_integer_labels_of_the_wrong_length_are_refused():
    rows = _counting_rows(seed=4)
    with pytest.raises(EstimationError, match=r"'unit' has 3 values; expected \d+ \(one per row\)"):
        aalen_johansen(rows["time"], rows["event"], cause=1, entry=rows["entry"], unit=np.arange(3))
    with pytest.raises(EstimationError, match=r"'clusters\['set'\]' has 2 values"):
        aalen_johansen(rows["time"], rows["event"], cause=1, entry=rows["entry"], unit=rows["unit"],
                       clusters={"set": np.arange(2)})
