"""The analysis units of every matching structure (``tiltak.evaluation.trials.matched_units``).

Full-matching sets become pairs (each participant with every comparison person of its set);
strata and weights give one unit per person-period with an index date drawn from the
stratum's participants, present after it, and weights that sum to the stratum's
participants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.matched import MatchedSample
from tiltak.evaluation.design_run import _drop_units
from tiltak.evaluation.trials import matched_units, set_matrix


def frame(n_treated=(3, 2), n_control=(20, 15), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g, (nt, nc) in enumerate(zip(n_treated, n_control)):
        month = pd.Timestamp(f"2013-0{g + 1}-01")
        for k in range(nt + nc):
            treated = k < nt
            start = month + pd.Timedelta(days=int(rng.integers(0, 28)))
            exit_date = month + pd.Timedelta(days=int(rng.integers(0, 60))) if rng.random() < 0.4 else pd.NaT
            if treated and exit_date is not pd.NaT and exit_date <= start:
                exit_date = pd.NaT
            rows.append({"person_id": f"p{g}-{k}", "month": month, "treated": treated,
                         "index_date": start if treated else pd.NaT, "exit_date": exit_date, "g": g})
    return pd.DataFrame(rows)


def sample_of(data, structure, weights=None, subclass=None):
    treat = data["treated"].to_numpy(bool)
    n = len(data)
    return MatchedSample(treat=treat, distance=np.full(n, 0.5),
                         weights=np.ones(n) if weights is None else weights,
                         subclass=np.full(n, -1) if subclass is None else subclass,
                         match_matrix=np.empty((int(treat.sum()), 0), dtype=np.int64),
                         discarded=np.zeros(n, bool), covariates=data[["g"]], structure=structure)


@pytest.mark.parametrize("structure", ["weights", "strata"])
def test_stratum_units_weigh_as_the_participants_and_start_after_a_participant(structure):
    data = frame()
    rng = np.random.default_rng(1)
    weights = np.where(data["treated"], 1.0, rng.uniform(0.2, 3, len(data)))
    group = data["g"].to_numpy()
    sample = sample_of(data, structure, weights, group if structure == "strata" else None)
    trials = matched_units(data, sample, np.arange(len(data)), seed=3, strata=group)
    units = trials.units
    treated = units["treated"].to_numpy()
    for g, members in units.groupby("group"):
        t = members["treated"].to_numpy()
        assert members.loc[~t, "weight"].sum() == pytest.approx(t.sum())
        starts = set(data.loc[(data["g"] == g) & data["treated"], "index_date"])
        assert set(members.loc[~t, "index_date"]) <= starts
    exits = data["exit_date"].to_numpy("datetime64[D]")[units["row"]]
    d = units["index_date"].to_numpy("datetime64[D]")
    assert (np.isnat(exits) | (exits > d)).all()
    assert trials.n_controls_left_before == int((~data["treated"]).sum()) - int((~treated).sum())
    assert units["set"].is_unique  # the cluster is the person only
    again = matched_units(data, sample, np.arange(len(data)), seed=3, strata=group).units
    pd.testing.assert_frame_equal(units, again)  # seeded: the same draw every time
    kept = _drop_units(trials, ~((~treated) & (units.index % 3 == 0)))
    for g, members in kept.units.groupby("group"):
        t = members["treated"].to_numpy()
        assert members.loc[~t, "weight"].sum() == pytest.approx(t.sum())


def test_weights_without_risk_sets_are_refused():
    data = frame()
    with pytest.raises(ValueError, match="risk set"):
        matched_units(data, sample_of(data, "weights"), np.arange(len(data)))


def test_full_matching_sets_are_pairs_of_each_participant_with_every_control_of_its_set():
    data = frame(n_treated=(3,), n_control=(4,))
    data["exit_date"] = pd.NaT
    # set 0: participants 0 and 1 with control 3 (2:1); set 1: participant 2 with controls 4, 5, 6 (1:3)
    subclass = np.array([0, 0, 1, 0, 1, 1, 1])
    sample = sample_of(data, "sets", subclass=subclass)
    mm = set_matrix(sample)
    assert mm.tolist() == [[3, -1, -1], [3, -1, -1], [4, 5, 6]]
    units = matched_units(data, sample, np.arange(len(data))).units
    controls = units[~units["treated"]]
    assert sorted(controls.groupby("owner")["weight"].sum().round(12).tolist()) == [1.0, 1.0, 1.0]
    assert controls.loc[controls["row"] == 3, "weight"].tolist() == [1.0, 1.0]
    assert units.groupby("set")["row"].size().sort_values().tolist() == [4, 4]  # the sets are the clusters
    w = np.asarray(matched_units(data, sample, np.arange(len(data))).sample.weights)
    # MatchIt's full-matching ATT weights: 2 for the control of the 2:1 set, 1/3 for those of the 1:3 set,
    # rescaled to sum to the 4 controls
    np.testing.assert_allclose(w[3:] / w[3:].sum() * 4, np.array([2, 1 / 3, 1 / 3, 1 / 3]) / 3 * 4)
