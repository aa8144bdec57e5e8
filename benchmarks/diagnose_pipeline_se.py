"""Where the register design's standard errors could fall short, measured on one seed.

Two experiments on one synthetic register (``--seed``) and one method of
``evaluation.matching.method`` (issue 13):

* the drawn index date (default): each shipped model's register outcomes are matched once,
  and the analysis units are built ``--draws`` times with different seeds for the index
  dates that the comparison persons of strata and weights draw from a participant of their
  stratum (``trials.stratum_units``); data and matching stay the same. The spread of the
  estimates over the draws is variance the person-clustered sandwich cannot see (it
  conditions on the draw): the script prints, per model x outcome x estimand, the SD over
  draws, the mean SE and var(draws) / SE^2 (pooled at the end; a ratio r means an SE too
  small by a factor sqrt(1 + r) if nothing else is missing);
* ``--bootstrap B``: a person-cluster bootstrap as the reference for the sandwich SE, per
  register outcome of the shared pool (``--estimand``, default enrol_now_vs_later).
  ``--level units`` resamples the analysis units by person with the matching weights fixed
  (the calibration refitted): it checks the sandwich given the units. ``--level match``
  resamples the pool's persons and matches again (score, weights, sets, index dates): the
  whole estimator, so estimated weights treated as fixed would show here.

    nice -n 10 python benchmarks/diagnose_pipeline_se.py --method ipw --seed 1 --draws 6
    nice -n 10 python benchmarks/diagnose_pipeline_se.py --method full --seed 1 --bootstrap 40
    nice -n 10 python benchmarks/diagnose_pipeline_se.py --method ipw --seed 1 --bootstrap 30 --level match \
        --models veien-videre

Results (seed 1, 2026-12-02): benchmarks/results/validate_pipeline_methods.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.validate_pipeline import METHODS, with_method  # noqa: E402
from tiltak import pipeline  # noqa: E402
from tiltak.evaluation.curves import register_effect  # noqa: E402
from tiltak.evaluation.design_run import DesignRun, match_pool  # noqa: E402
from tiltak.evaluation.estimate import _outcomes_for, design_settings, tested_changes  # noqa: E402
from tiltak.evaluation.riskset_data import build_risk_sets  # noqa: E402
from tiltak.evaluation.trials import MatchedTrials, matched_units  # noqa: E402
from tiltak.evaluation.verdicts import VerdictRules  # noqa: E402

ESTIMANDS = ("enrol_vs_not", "enrol_now_vs_later")


def model_draws(con, view, catalogue, seed: int, draws: int, rules) -> list[dict]:
    """Estimate and SE of every register change of one model, per draw of the index dates."""
    changes = tested_changes(view)
    outcomes = _outcomes_for(view, changes, catalogue)
    subgroups = {c.id: c.subgroup for c in changes if c.subgroup}
    exact = tuple(view.evaluation.matching.exact)
    rs = build_risk_sets(con, view.evaluation.treatment.measure, view.evaluation.covariates, outcomes, subgroups, "", exact)
    run = DesignRun(con, view, rs, design_settings(view.evaluation.matching, rs.covariates), rules, seed, n_tests=len(changes))
    rows = []
    for change in changes:
        spec = catalogue[change.outcome]
        if not spec.binary or change.subgroup:
            continue
        key = run._pool_key(change, spec)
        match, _ = run._pool(change, spec)
        if match.error:
            continue
        for draw in range(draws):
            run._pools[key] = (match, matched_units(match.data, match.sample, match.rows, 1000 + draw, match.strata))
            run._censoring.pop(key, None)
            for estimand in ESTIMANDS:
                e = run.estimate(change, spec, estimand)
                if e.error is None:
                    rows.append({"model": view.id, "outcome": spec.id, "estimand": estimand, "draw": draw,
                                 "att": e.evidence.att, "se": e.evidence.se})
    return rows


def _resampled_units(trials: MatchedTrials, rng: np.random.Generator) -> MatchedTrials:
    """The units of a person-cluster bootstrap draw: each drawn person's units, once per draw."""
    units = trials.units
    persons = pd.unique(units["person"])
    drawn = pd.Series(rng.integers(0, persons.size, persons.size)).value_counts()
    code = pd.Series(np.arange(persons.size), index=persons)[units["person"]].to_numpy()
    times = drawn.reindex(np.arange(persons.size), fill_value=0).to_numpy()[code]
    out = units.loc[np.repeat(np.arange(len(units)), times)].copy()
    copy = out.groupby(level=0).cumcount().to_numpy()
    out["person"] = out["person"].astype(str) + "~" + copy.astype(str)
    out["set"] = pd.factorize(out["set"].astype(str) + "~" + (
        out["person"] if trials.sample.structure in ("strata", "weights") else pd.Series(copy.astype(str),
                                                                                           index=out.index)))[0]
    both = out.groupby("trial")["treated"].agg(["min", "max"])
    full = both.index[(~both["min"]) & both["max"]]
    out = out[out["trial"].isin(full)]
    out = out.sort_values(["trial", "set", "treated", "row"], ascending=[True, True, False, True],
                          kind="stable").reset_index(drop=True)
    sample = trials.sample
    if sample.structure not in ("strata", "weights"):  # room for the copies in the match matrix
        width = int(out.loc[~out["treated"]].groupby("owner").size().max())
        sample = dataclasses.replace(sample, match_matrix=np.full((int(np.sum(sample.treat)), width), -1))
    return dataclasses.replace(trials, units=out, sample=sample)


def _resampled_data(data: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The pool of a person-cluster bootstrap draw: each drawn person's rows under a new id."""
    persons = pd.unique(data["person_id"])
    pick = rng.integers(0, persons.size, persons.size)
    by_person = data.groupby("person_id", sort=False).indices
    parts = []
    for copy, p in enumerate(pick.tolist()):
        part = data.iloc[by_person[persons[p]]].copy()
        part["person_id"] = f"b{copy}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def bootstrap(con, view, catalogue, seed: int, replicates: int, level: str, estimand: str, rules,
              calibrate: bool = True) -> list[dict]:
    """SD of the estimates over person-cluster bootstrap draws against the sandwich SE.

    For every register outcome of the model's shared pool. ``level`` ``units``: the analysis
    units resampled by person, matching weights fixed (the calibration is refitted): checks
    the sandwich given the units. ``match``: the pool's persons resampled and matched again
    (score, weights, sets, index dates): the whole estimator.
    """
    changes = [c for c in tested_changes(view) if catalogue[c.outcome].binary and not c.subgroup]
    outcomes = _outcomes_for(view, changes, catalogue)
    exact = tuple(view.evaluation.matching.exact)
    rs = build_risk_sets(con, view.evaluation.treatment.measure, view.evaluation.covariates, outcomes, {}, "", exact)
    settings = design_settings(view.evaluation.matching, rs.covariates)
    run = DesignRun(con, view, rs, settings, rules, seed, n_tests=1)
    specs = [catalogue[c.outcome] for c in changes]
    match, trials = run._pool(changes[0], specs[0])
    covariates = list(settings["covariates"]) if calibrate else None

    def estimates(t: MatchedTrials) -> list:
        return [register_effect(t, spec, estimand, rs.data_end, None, covariates).effect for spec in specs]

    first = estimates(trials)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(replicates):
        if level == "units":
            t = _resampled_units(trials, rng)
        else:
            m = match_pool(_resampled_data(match.data, rng), settings, seed)
            t = matched_units(m.data, m.sample, m.rows, seed, m.strata)
        values.append([float(e.estimate[-1]) for e in estimates(t)])
    sd = np.std(np.array(values), axis=0, ddof=1)
    return [{"model": view.id, "outcome": spec.id, "estimand": estimand, "level": level, "B": replicates, "calibrated": calibrate,
             "estimate": float(e.estimate[-1]), "sandwich_se": float(e.std_error[-1]), "bootstrap_sd": float(s),
             "ratio": float(s / e.std_error[-1])} for spec, e, s in zip(specs, first, sd)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="ipw", choices=sorted(METHODS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--models", nargs="*", default=None, help="model ids (default: all shipped)")
    parser.add_argument("--bootstrap", type=int, default=0, help="person-cluster bootstrap replicates instead")
    parser.add_argument("--level", default="units", choices=("units", "match"))
    parser.add_argument("--estimand", default="enrol_now_vs_later", choices=ESTIMANDS)
    parser.add_argument("--no-calibration", action="store_true", help="bootstrap the curves without calibration")
    args = parser.parse_args(argv)
    rules = VerdictRules()
    with tempfile.TemporaryDirectory(prefix="tiltak-diagnose-") as tmp:
        db = Path(tmp) / "registers.duckdb"
        pipeline.write_synthetic_store(db, args.seed)
        inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
        con = duckdb.connect(str(db), read_only=True)
        rows = []
        for item in inputs:
            if item.model.evaluation is None or (args.models and item.model.id not in args.models):
                continue
            if args.bootstrap:
                view = with_method(item.model, args.method)
                for row in bootstrap(con, view, item.outcomes, args.seed, args.bootstrap, args.level,
                                     args.estimand, rules, not args.no_calibration):
                    print(row, flush=True)
                continue
            rows += model_draws(con, with_method(item.model, args.method), item.outcomes, args.seed, args.draws, rules)
        con.close()
    if args.bootstrap:
        return 0
    frame = pd.DataFrame(rows)
    table = frame.groupby(["model", "outcome", "estimand"]).agg(
        n=("att", "size"), mean_att=("att", "mean"), sd_draws=("att", "std"), mean_se=("se", "mean"))
    table["ratio"] = table["sd_draws"] ** 2 / table["mean_se"] ** 2
    print(f"# method {args.method}, seed {args.seed}, {args.draws} draws of the index dates")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    pooled = float(np.mean(table["ratio"]))
    print(f"pooled var(draws)/SE^2 = {pooled:.3f} -> SE too small by a factor {np.sqrt(1 + pooled):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
