"""Matched target trials as analysis units: time zero aligned at the participant's start date.

Matching (``estimation.RiskSetMatching``) pairs each participant of trial ``t`` with up to
``ratio`` comparison persons eligible on the first day of month ``t``. Here every matched
comparison person takes the participant's start date as their index date and must still be
present after it (no exit on or before that date: a participant is present after their own
start date by the eligibility rule of :mod:`tiltak.evaluation.riskset_data`). A comparison
person who left earlier in the month is removed from the matched set (their exit happened
before time zero); the participant keeps the others, and a participant left without any is
not analysed (counted in ``n_treated_without_controls``).

The analysis units are the participants (weight 1) and one unit per (participant, comparison
person) pair, weighted ``1 / k`` with ``k`` the comparison persons left in the set: with
replacement a comparison person matched to two participants is two units, each with its
own index date. Sets that share a comparison person form one matched-set cluster.

Other methods (``evaluation.matching.method``) give other structures, all for the ATT:

* optimal pair matching: pairs, as above;
* full matching: sets of one participant and several comparison persons or several
  participants and one comparison person; each participant is paired with every
  comparison person of its set (weight ``1 / k``, ``k`` the comparison persons of the set
  still present at the participant's start date), which gives MatchIt's full-matching
  weights; the set is the cluster;
* subclassification and CEM (strata of a trial) and weighting (the whole trial): a
  comparison person has no participant of their own, so each takes as index date the start
  date of a participant of their stratum drawn at random (seeded; each participant's date
  equally likely), and must still be present after it. The comparison weights (MatchIt's
  subclass weights, or the IPW / entropy-balancing weights) are rescaled within the
  stratum so that they sum to its participants. The cluster is the person only (the
  stratum is not a matched set); ``group`` holds the stratum.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MatchedTrials:
    """The analysis units of the matched trials and the matched sample they come from.

    ``units``: one row per unit with ``row`` (row of ``data``), ``treated``, ``set`` (matched-set
    cluster), ``owner`` (the participant's row; -1 for comparison units of a stratum),
    ``group`` (whose participants the comparison weights stand for: the participant's row for
    pairs and sets, the stratum for strata and weights), ``trial`` (the month, first day),
    ``index_date``, ``weight``, ``person`` (the pseudonymous id, for clustering). ``sample``: the MatchedSample with the removed
    comparison persons unmatched and MatchIt's weights recomputed (for balance and
    sensitivity). ``data``: the frame rows the sample was fitted on.
    """

    units: pd.DataFrame
    sample: Any
    data: pd.DataFrame
    n_controls_left_before: int
    n_treated_without_controls: int

    def restrict(self, keep_units: np.ndarray) -> MatchedTrials:
        """The trials with only the units in ``keep_units``, for whole sets or trials.

        A participant left out takes its comparison units along; weights are not changed.
        """
        units = self.units.loc[np.asarray(keep_units, bool)]
        kept = set(units.loc[units["treated"], "group"])
        units = units[units["group"].isin(kept)].reset_index(drop=True)
        return dataclasses.replace(self, units=units, sample=matched_sample_of(self.sample, units))


def matched_units(data: pd.DataFrame, sample: Any, rows: np.ndarray, seed: int = 0,
                  strata: np.ndarray | None = None) -> MatchedTrials:
    """Analysis units of any method's risk-set result (``rows``: data row of each sample row).

    ``strata``: the risk set of each sample row (``RiskSetMatching.strata_``), for weighting.
    """
    structure = getattr(sample, "structure", "pairs")
    if structure == "pairs":
        return pair_units(data, sample, rows)
    if structure == "sets":
        return pair_units(data, dataclasses.replace(sample, match_matrix=set_matrix(sample)), rows)
    return stratum_units(data, sample, rows, seed, strata)


def set_matrix(sample: Any) -> np.ndarray:
    """A match matrix of full-matching sets: each treated row lists the controls of its set."""
    treat = np.asarray(sample.treat, bool)
    subclass = np.asarray(sample.subclass)
    treated_rows = np.flatnonzero(treat)
    controls = np.flatnonzero(~treat & (subclass >= 0))
    by_set: dict[int, list[int]] = {}
    for c in controls[np.argsort(subclass[controls], kind="stable")].tolist():
        by_set.setdefault(int(subclass[c]), []).append(c)
    width = max((len(v) for v in by_set.values()), default=0)
    mm = np.full((len(treated_rows), width), -1, dtype=np.int64)
    for i, t in enumerate(treated_rows.tolist()):
        members = by_set.get(int(subclass[t]), []) if subclass[t] >= 0 else []
        mm[i, :len(members)] = members
    return mm


def stratum_units(data: pd.DataFrame, sample: Any, rows: np.ndarray, seed: int,
                  strata: np.ndarray | None = None) -> MatchedTrials:
    """Units of strata (subclasses, CEM) or weighted trials: one per person-period, random index dates."""
    frame = data.iloc[rows].reset_index(drop=True)
    treat = np.asarray(sample.treat, bool)
    weights = np.asarray(sample.weights, dtype=float)
    if sample.structure == "strata":
        group = np.asarray(sample.subclass, dtype=np.int64)
    else:  # weights: the risk set (month and exact columns) is the stratum
        if strata is None:
            raise ValueError("weighting units need the risk set of each row (strata)")
        group = np.asarray(strata, dtype=np.int64)
    used = (weights > 0) & (group >= 0)
    index = frame["index_date"].to_numpy(dtype="datetime64[D]")
    exits = frame["exit_date"].to_numpy(dtype="datetime64[D]")
    treated_rows = np.flatnonzero(treat & used)
    control_rows = np.flatnonzero(~treat & used)
    # each comparison person draws one participant of its stratum: that start date is time zero
    order = np.argsort(group[treated_rows], kind="stable")
    by_group = treated_rows[order]
    starts = np.searchsorted(group[by_group], group[control_rows], side="left")
    counts = np.searchsorted(group[by_group], group[control_rows], side="right") - starts
    has_treated = counts > 0
    control_rows, starts, counts = control_rows[has_treated], starts[has_treated], counts[has_treated]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 13]))
    pick = by_group[starts + np.floor(rng.random(control_rows.size) * counts).astype(np.int64)]
    d = index[pick]
    present = np.isnat(exits[control_rows]) | (exits[control_rows] > d)
    control_rows, d = control_rows[present], d[present]
    w = weights[control_rows]
    total = np.bincount(group[control_rows], weights=w, minlength=int(group.max()) + 1)
    n_treated = np.bincount(group[treated_rows], minlength=int(group.max()) + 1)
    w = w * n_treated[group[control_rows]] / total[group[control_rows]]
    with_controls = total[group[treated_rows]] > 0
    kept_treated = treated_rows[with_controls]
    treated_units = pd.DataFrame({"row": kept_treated, "treated": True, "owner": kept_treated,
                                  "group": group[kept_treated], "index_date": index[kept_treated],
                                  "weight": 1.0})
    control_units = pd.DataFrame({"row": control_rows, "treated": False, "owner": -1,
                                  "group": group[control_rows], "index_date": d, "weight": w})
    units = pd.concat([treated_units, control_units], ignore_index=True)
    units["trial"] = frame["month"].to_numpy(dtype="datetime64[D]")[units["row"].to_numpy()]
    units["person"] = frame["person_id"].to_numpy()[units["row"].to_numpy()]
    units = units.sort_values(["trial", "group", "treated", "row"], ascending=[True, True, False, True],
                              kind="stable").reset_index(drop=True)
    units["set"] = np.arange(len(units))  # the stratum is not a matched set: the cluster is the person
    return MatchedTrials(units=units, sample=matched_sample_of(sample, units), data=frame,
                         n_controls_left_before=int((~present).sum()),
                         n_treated_without_controls=int((~with_controls).sum()))


def pair_units(data: pd.DataFrame, sample: Any, rows: np.ndarray) -> MatchedTrials:
    """Analysis units from a fitted risk-set matching (``rows``: data row of each sample row)."""
    frame = data.iloc[rows].reset_index(drop=True)
    treat = np.asarray(sample.treat, bool)
    treated_rows = np.flatnonzero(treat)
    mm = np.asarray(sample.match_matrix)
    index = frame["index_date"].to_numpy(dtype="datetime64[D]")
    exits = frame["exit_date"].to_numpy(dtype="datetime64[D]")
    t_idx, slot = np.nonzero(mm >= 0)
    controls = mm[t_idx, slot]
    d = index[treated_rows[t_idx]]
    present = np.isnat(exits[controls]) | (exits[controls] > d)
    k = np.bincount(t_idx[present], minlength=len(treated_rows))
    has = k > 0
    sets = _set_clusters(len(treated_rows), t_idx[present], controls[present])
    treated_units = pd.DataFrame({"row": treated_rows[has], "treated": True, "set": sets[has],
                                  "owner": treated_rows[has], "index_date": index[treated_rows[has]],
                                  "weight": 1.0})
    pairs = t_idx[present]
    control_units = pd.DataFrame({"row": controls[present], "treated": False, "set": sets[pairs],
                                  "owner": treated_rows[pairs], "index_date": d[present],
                                  "weight": 1.0 / k[pairs]})
    units = pd.concat([treated_units, control_units], ignore_index=True)
    units["group"] = units["owner"]
    units["trial"] = frame["month"].to_numpy(dtype="datetime64[D]")[units["row"].to_numpy()]
    units["person"] = frame["person_id"].to_numpy()[units["row"].to_numpy()]
    units = units.sort_values(["trial", "set", "treated", "row"], ascending=[True, True, False, True],
                              kind="stable").reset_index(drop=True)
    matched_before = int((mm >= 0).any(axis=1).sum()) if mm.size else 0
    return MatchedTrials(units=units, sample=matched_sample_of(sample, units), data=frame,
                         n_controls_left_before=int((~present).sum()),
                         n_treated_without_controls=int(matched_before - has.sum()))


def _set_clusters(n_treated: int, owner: np.ndarray, control: np.ndarray) -> np.ndarray:
    """Matched-set cluster per treated unit: sets sharing a comparison person are merged."""
    parent = np.arange(n_treated)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_owner: dict[int, int] = {}
    for o, c in zip(owner.tolist(), control.tolist()):
        if c in first_owner:
            a, b = find(o), find(first_owner[c])
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            first_owner[c] = o
    return np.array([find(i) for i in range(n_treated)], dtype=np.int64)


def matched_sample_of(sample: Any, units: pd.DataFrame) -> Any:
    """The matched sample with only ``units`` matched: MatchIt's ATT weights from the pairs.

    For strata and weights the row weights are the units' weights and the subclass is the
    stratum (strata) or none (weights); there is no match matrix.
    """
    n = len(np.asarray(sample.treat))
    treat = np.asarray(sample.treat, bool)
    treated_rows = np.flatnonzero(treat)
    position = np.full(n, -1)
    position[treated_rows] = np.arange(len(treated_rows))
    rows = units["row"].to_numpy()
    weights = np.zeros(n)
    np.add.at(weights, rows, units["weight"].to_numpy())
    controls = ~treat & (weights > 0)
    if controls.any():
        weights[controls] *= controls.sum() / weights[controls].sum()
    subclass = np.full(n, -1, dtype=np.int64)
    if getattr(sample, "structure", "pairs") in ("strata", "weights"):
        if sample.structure == "strata":
            subclass[rows] = units["group"].to_numpy()
        return dataclasses.replace(sample, weights=weights, subclass=subclass)
    subclass[rows] = units["set"].to_numpy()
    mm = np.full(np.asarray(sample.match_matrix).shape, -1, dtype=np.int64)
    pairs = units.loc[~units["treated"]]
    owner = position[pairs["owner"].to_numpy()]
    slot = pairs.groupby("owner", sort=False).cumcount().to_numpy()
    mm[owner, slot] = pairs["row"].to_numpy()
    return dataclasses.replace(sample, weights=weights, subclass=subclass, match_matrix=mm)


def one_unit_per_comparison(units: pd.DataFrame, seed: int) -> np.ndarray:
    """Per unit: True for every participant and for one unit of each comparison person-period.

    For Rosenbaum's bounds a matched set needs one outcome per person. In a full-matching set
    of several participants and one comparison person that person has one unit (an index
    date) per participant; one of them is drawn at random (seeded; each equally likely), as
    for the strata of :func:`stratum_units`. A comparison person with one unit (pairs, k:1 and
    one-participant sets) keeps it, whatever the seed.
    """
    treated = units["treated"].to_numpy(dtype=bool)
    controls = np.flatnonzero(~treated)
    rows = units["row"].to_numpy()[controls]
    key = np.random.default_rng(np.random.SeedSequence([int(seed), 29])).random(controls.size)
    order = np.lexsort((key, rows))
    first = np.ones(order.size, dtype=bool)
    first[1:] = rows[order][1:] != rows[order][:-1]
    keep = treated.copy()
    keep[controls[order[first]]] = True
    return keep


def trial_reaches(units: pd.DataFrame, data_end: Any, horizon: int) -> np.ndarray:
    """Units of trials whose whole month can be followed for ``horizon`` months.

    A trial ``t`` enters the estimate at horizon ``k`` only when every index date in it has
    ``[d, d + k months)`` inside the data: ``t + k + 1 <= `` the month after the panel's last.
    """
    trial = units["trial"].to_numpy(dtype="datetime64[M]")
    end = np.datetime64(pd.Timestamp(data_end).date(), "M")
    return trial + horizon + 1 <= end
