"""Known-truth validation of the whole register design: synth -> trials -> estimates -> verdicts.

For each scenario and seed, synthetic registers with a known truth are generated
(``tiltak.synth``), every shipped model is estimated under both estimands from one
matching (``tiltak.evaluation.estimate.estimate_model``), p-values are Holm-adjusted within
each model and the verdicts drawn (``tiltak.evaluation.verdicts.judge``). Each estimate is
compared with the store's truth for its estimand (``truth_effects.true_att_followed_up``:
participants of the trials that reach the outcome's horizon). The script prints, per
scenario, measure x outcome x estimand: the number of seeds, the mean estimate, the mean
truth, the bias and its standard error over seeds (SD of estimate - truth over sqrt(n)),
bias / SE, the mean standard error against the SD of the estimates, the coverage of the
95 % intervals and the share of seeds significant after Holm's adjustment (the rejection
rate under a null truth, the power otherwise); then the checks of issue 9:

* |bias| <= 3.5 SE of the mean in every cell, and pooled coverage of all intervals 93-97 %,
  in the scenarios without hidden bias (hidden bias is meant to fool the design; the table
  shows by how much);
* "confirmed" or "contradicted" on a change whose true effect is 0 in at most 5 % of the
  models (default and --effect-hscl scenarios, both estimands);
* with odds ratio 3, the return effect (assisted_return_12m) of every measure significant
  in at least 80 % of the seeds (Holm-adjusted);
* with hidden bias, at least 90 % of the seeds' model reports (seed x model) that show a
  significant spurious effect (p < 0.05 before adjustment) report Rosenbaum's Gamma below 2
  for every such effect (no Gamma: not significant even at Gamma = 1); the figure per seed
  with all three models together and per estimate are printed too.

    nice -n 10 python benchmarks/validate_pipeline.py --jobs 2 --cache .validate-cache
    python benchmarks/validate_pipeline.py --seeds 50 --seeds-other 30 --jobs 2
    python benchmarks/validate_pipeline.py --scenarios default --seeds 4   # a quick look
    nice -n 10 python benchmarks/validate_pipeline.py --methods all --scenarios default --seeds 10 --jobs 2

``--methods`` runs the same registers through other matching methods of
``evaluation.matching.method`` (each model's design with its method keys replaced; see
``METHODS``): the table and the checks are then given per method.

Each seed's result is cached as JSON in ``--cache`` (default ``.validate-pipeline``), so an
interrupted run resumes where it stopped; ``--fresh`` ignores the cache. One seed of one
scenario takes about 20-40 s on one core (synthetic registers, three models, two estimands).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCENARIOS: dict[str, dict] = {
    "default": {},
    "effect-return": {"effect_return": 3.0},
    "effect-hscl": {"effect_hscl": {"VV": -0.3, "KVL": -0.3, "KVN": -0.3}},
    "hidden-bias": {"hidden_bias": 1.0},
}
"""Scenarios and their synth options: no true return effect (HSCL-10 -0.15 for VV); odds
ratio 3 on assisted return for every measure; a larger HSCL-10 improvement; hidden bias 1
(an unobserved motivation drives participation and return, no true return effect)."""
SEED_OFFSET = {"default": 0, "effect-return": 1000, "effect-hscl": 2000, "hidden-bias": 3000}
"""Each scenario draws its own registers (seeds first_seed + offset ...), so that no two
scenarios share the random numbers of their people."""
ESTIMANDS = ("enrol_vs_not", "enrol_now_vs_later")
METHODS: dict[str, dict] = {
    "nearest": {},
    "optimal": {"method": "optimal"},
    "full": {"method": "full"},
    "subclass": {"method": "subclass"},
    "cem": {"method": "cem"},
    "ipw": {"method": "weighting", "weights": "ipw"},
    "ebal": {"method": "weighting", "weights": "ebal"},
}
"""The methods ``--methods`` can run, as overrides of each shipped model's ``evaluation.matching``:
the model's own keys that the method uses are kept (exact columns, caliper, ratio), the others
are dropped. ``nearest`` is the shipped models as they are."""
NULL_SCENARIOS = ("default", "effect-hscl")
UNBIASED_SCENARIOS = ("default", "effect-return", "effect-hscl")
"""The scenarios in which the design should be unbiased: hidden bias is meant to fool it
(its check is that Gamma says so)."""


def with_method(model, method: str):
    """The model with its matching settings replaced by those of ``method`` (``METHODS``)."""
    from logicmodel.model import METHOD_KEYS
    from tiltak.evaluation.model_reads import with_design

    override = METHODS[method]
    if not override or model.evaluation is None:
        return model
    keys = METHOD_KEYS[override["method"]]
    own = model.evaluation.matching.model_dump(exclude_unset=True)
    return with_design(model, matching={**{k: v for k, v in own.items() if k in keys}, **override})


def run_seed(scenario: str, seed: int, method: str = "nearest") -> list[dict]:
    """All estimates and verdicts of one scenario and seed (a list of plain rows)."""
    import duckdb

    from tiltak import pipeline
    from tiltak.evaluation.estimate import estimate_model
    from tiltak.evaluation.multiplicity import holm_adjust
    from tiltak.evaluation.verdicts import VerdictRules, judge

    rules = VerdictRules()
    with tempfile.TemporaryDirectory(prefix="tiltak-validate-") as tmp:
        db = Path(tmp) / "registers.duckdb"
        pipeline.write_synthetic_store(db, seed, **SCENARIOS[scenario])
        inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
        con = duckdb.connect(str(db), read_only=True)
        try:
            truth = {(m, o, e): (t, a) for m, o, e, t, a in con.execute(
                "SELECT measure, outcome, estimand, true_att_followed_up, true_att FROM truth_effects").fetchall()}
            rows = []
            for item in inputs:
                estimates = holm_adjust(estimate_model(con, with_method(item.model, method), item.outcomes, seed,
                                                       rules, estimands=ESTIMANDS, curves=False))
                for e in estimates:
                    rows.append({"method": method, **_row(scenario, seed, item, e, truth, judge, rules)})
        finally:
            con.close()
    return rows


def _row(scenario, seed, item, e, truth, judge, rules) -> dict:
    ev = None if e.error else e.evidence
    from tiltak.evaluation.model_reads import change_spec

    change = item.model.change(e.change_id)
    verdict = judge(change_spec(change), ev, rules)
    t_followed, t_all = truth.get((item.model.measure, e.outcome.id, e.estimand), (None, None))
    return {
        "scenario": scenario, "seed": seed, "model": item.model.id, "measure": item.model.measure,
        "change": e.change_id, "outcome": e.outcome.id, "estimand": e.estimand,
        "direction": change.direction, "error": e.error,
        "att": None if ev is None else ev.att, "se": None if ev is None else ev.se,
        "ci_low": None if ev is None else ev.ci_low, "ci_high": None if ev is None else ev.ci_high,
        "p": None if ev is None else ev.p_value, "p_holm": None if ev is None else ev.p_value_holm,
        "gamma": None if ev is None else ev.gamma, "max_abs_smd": None if ev is None else ev.max_abs_smd,
        "n_treated": None if ev is None else ev.n_treated_matched, "verdict": verdict.kind.value,
        "truth": _num(t_followed), "truth_all": _num(t_all),
    }


def _num(value) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _cached(cache: Path, scenario: str, seed: int, method: str = "nearest") -> Path:
    return cache / (f"{scenario}-{seed:04d}.json" if method == "nearest" else f"{scenario}-{method}-{seed:04d}.json")


def _work(args: tuple[str, int, str, str]) -> tuple[str, str, int, float]:
    scenario, seed, method, cache = args
    start = time.perf_counter()
    rows = run_seed(scenario, seed, method)
    path = _cached(Path(cache), scenario, seed, method)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)
    return scenario, method, seed, time.perf_counter() - start


def run_all(tasks: list[tuple[str, int, str]], cache: Path, jobs: int) -> None:
    todo = [(s, k, m, str(cache)) for s, k, m in tasks if not _cached(cache, s, k, m).exists()]
    if not todo:
        return
    print(f"running {len(todo)} scenario-seed-methods with {jobs} job(s); cache {cache}", file=sys.stderr)
    if jobs <= 1:
        for item in todo:
            print("  done %s %s seed %d in %.0f s" % _work(item), file=sys.stderr)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(_work, item) for item in todo]):
            print("  done %s %s seed %d in %.0f s" % future.result(), file=sys.stderr)


def load(tasks: list[tuple[str, int, str]], cache: Path):
    import pandas as pd

    rows = [{"method": m, **r} for s, k, m in tasks for r in json.loads(_cached(cache, s, k, m).read_text())]
    return pd.DataFrame(rows)


def cell_table(frame):
    """Bias, coverage, SE and rejection per scenario x measure x outcome x estimand."""
    import numpy as np
    import pandas as pd

    ok = frame[frame["att"].notna() & frame["truth"].notna()].copy()
    ok["err"] = ok["att"] - ok["truth"]
    ok["covered"] = (ok["ci_low"] <= ok["truth"]) & (ok["truth"] <= ok["ci_high"])
    ok["significant"] = ok["p_holm"] < 0.05
    rows = []
    for key, g in ok.groupby(["scenario", "measure", "outcome", "estimand"], sort=True):
        n = len(g)
        se_mean = g["err"].std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        bias = g["err"].mean()
        rows.append({
            "scenario": key[0], "measure": key[1], "outcome": key[2], "estimand": key[3], "n": n,
            "mean_est": g["att"].mean(), "mean_truth": g["truth"].mean(), "bias": bias, "se_bias": se_mean,
            "z": bias / se_mean if se_mean > 0 else float("nan"),
            "mean_se": g["se"].mean(), "sd_est": g["att"].std(ddof=1),
            "coverage": g["covered"].mean(), "significant": g["significant"].mean(),
        })
    return pd.DataFrame(rows)


def checks(frame, cells) -> list[tuple[str, bool, str]]:
    """The pass criteria of issue 9, each with its figure."""
    import numpy as np

    out = []
    cells = cells[cells["scenario"].isin(UNBIASED_SCENARIOS)]
    worst = cells.loc[cells["z"].abs().idxmax()] if len(cells) else None
    out.append(("|bias| <= 3.5 SE of the mean in every cell (scenarios without hidden bias)",
                bool(len(cells)) and bool((cells["z"].abs() <= 3.5).all()),
                "" if worst is None else f"largest |bias|/SE {abs(worst['z']):.2f} "
                f"({worst['scenario']} {worst['measure']} {worst['outcome']} {worst['estimand']})"))
    ok = frame[frame["att"].notna() & frame["truth"].notna() & frame["scenario"].isin(UNBIASED_SCENARIOS)]
    covered = ((ok["ci_low"] <= ok["truth"]) & (ok["truth"] <= ok["ci_high"])).mean() if len(ok) else float("nan")
    out.append(("pooled coverage 93-97 % (scenarios without hidden bias)", 0.93 <= covered <= 0.97,
                f"{100 * covered:.1f} % of {len(ok)} intervals"))
    null = frame[frame["scenario"].isin(NULL_SCENARIOS) & (frame["truth"] == 0)]
    per_model = null.groupby(["scenario", "seed", "model", "estimand"])["verdict"].apply(
        lambda v: bool(v.isin(["confirmed", "contradicted"]).any()))
    rate = per_model.mean() if len(per_model) else float("nan")
    out.append(("'confirmed'/'contradicted' on a null change in <= 5 % of models", rate <= 0.05,
                f"{100 * rate:.1f} % of {len(per_model)} model runs"))
    power = frame[(frame["scenario"] == "effect-return") & (frame["outcome"] == "assisted_return_12m")]
    if len(power):
        by = power.groupby(["measure", "estimand"]).apply(
            lambda g: float(((g["p_holm"] < 0.05) & (g["att"] > 0)).mean()), include_groups=False)
        out.append(("power >= 80 % with odds ratio 3 (assisted_return_12m, every measure)",
                    bool((by >= 0.8).all()), ", ".join(f"{m} {e}: {100 * v:.0f} %" for (m, e), v in by.items())))
    biased = frame[(frame["scenario"] == "hidden-bias") & (frame["truth"] == 0) & frame["p"].notna()]
    spurious = biased[biased["p"] < 0.05]
    if len(biased):
        # no Gamma means the sensitivity test is not significant even at Gamma = 1
        def below(g):
            return bool((g.fillna(1.0) < 2).all())

        runs = spurious.groupby(["seed", "model"])["gamma"].apply(below)
        seeds = spurious.groupby("seed")["gamma"].apply(below)
        each = float((spurious["gamma"].fillna(1.0) < 2).mean()) if len(spurious) else float("nan")
        share = runs.mean() if len(runs) else float("nan")
        out.append(("hidden bias: >= 90 % of the seeds' model reports with a significant spurious effect "
                    "give Gamma < 2 for every such effect", bool(len(runs) == 0 or share >= 0.9),
                    f"{100 * share:.0f} % of {len(runs)} seed x model reports; per seed (all models together) "
                    f"{100 * seeds.mean():.0f} % of {len(seeds)}; per estimate {100 * each:.0f} % of "
                    f"{len(spurious)} significant spurious estimates"))
    del np
    return out


def z_spread(frame, reference=None, draws: int = 2000) -> str:
    """SD of z = (estimate - truth) / SE over the estimates of the unbiased scenarios, with a
    95 % interval from resampling whole seeds (the estimates of one seed are correlated),
    and its ratio to ``reference`` (another method's rows) on the same resampled seeds."""
    import numpy as np

    def by_seed(rows):
        ok = rows[rows["att"].notna() & rows["truth"].notna() & rows["se"].gt(0)
                  & rows["scenario"].isin(UNBIASED_SCENARIOS)]
        z = (ok["att"] - ok["truth"]) / ok["se"]
        return {k: g.to_numpy() for k, g in z.groupby([ok["scenario"], ok["seed"]])}

    def sd(groups, keys):
        z = np.concatenate([groups[k] for k in keys if k in groups])
        return float(np.std(z, ddof=1)) if z.size > 1 else float("nan")

    mine = by_seed(frame)
    keys = sorted(mine)
    if len(keys) < 2:
        return "spread of z: too few seeds"
    rng = np.random.default_rng(20261202)
    picks = [[keys[i] for i in rng.integers(0, len(keys), len(keys))] for _ in range(draws)]
    values = np.array([sd(mine, k) for k in picks])
    text = (f"spread of z (SD of (estimate - truth) / SE) {sd(mine, keys):.3f} "
            f"[{np.nanquantile(values, 0.025):.3f}, {np.nanquantile(values, 0.975):.3f}] over {len(keys)} seeds")
    if reference is not None:
        ref = by_seed(reference)
        ratios = np.array([sd(mine, k) / sd(ref, k) for k in picks])
        text += (f"; ratio to nearest on the same seeds {sd(mine, keys) / sd(ref, keys):.3f} "
                 f"[{np.nanquantile(ratios, 0.025):.3f}, {np.nanquantile(ratios, 0.975):.3f}]")
    return text


def z_tails(frame, draws: int = 2000) -> str:
    """The tails of z on the null estimates (true effect 0) and the null changes declared.

    The rate of model runs with a change declared ("confirmed"/"contradicted") is given with
    a 95 % interval from resampling whole seeds, and against what the spread of z alone would
    give: each run's m tests independent N(0, s^2) with s the SD of z, so that Holm declares
    one when the largest |z| exceeds the normal quantile 1 - 0.025 / m (s = 1: about 5 %).
    The IQR spread ((q75 - q25) / 1.349, 1 for a normal) says whether the spread comes from
    the body or the tails of z.
    """
    import numpy as np
    from statistics import NormalDist

    null = frame[frame["scenario"].isin(NULL_SCENARIOS) & (frame["truth"] == 0)]
    ok = null[null["att"].notna() & null["se"].gt(0)]
    if len(ok) < 10:
        return "tails of z: too few null estimates"
    z = ((ok["att"] - ok["truth"]) / ok["se"]).to_numpy()
    s = float(np.std(z, ddof=1))
    q25, q75 = np.quantile(z, [0.25, 0.75])
    runs = null.groupby(["scenario", "seed", "model", "estimand"])
    declared = runs["verdict"].apply(lambda v: bool(v.isin(["confirmed", "contradicted"]).any()))
    tests = runs["att"].apply(lambda v: int(v.notna().sum()))
    normal = NormalDist()
    expected = np.mean([1 - (1 - 2 * normal.cdf(-normal.inv_cdf(1 - 0.025 / m) / s)) ** m
                        for m in tests if m > 0])
    by_seed = declared.groupby(level=["scenario", "seed"]).agg(["sum", "count"])
    rng = np.random.default_rng(20261202)
    pick = rng.integers(0, len(by_seed), (draws, len(by_seed)))
    rates = by_seed["sum"].to_numpy()[pick].sum(axis=1) / by_seed["count"].to_numpy()[pick].sum(axis=1)
    return (f"tails of z ({len(z)} null estimates): IQR spread {(q75 - q25) / 1.349:.3f}, |z| > 1.96 "
            f"{100 * np.mean(np.abs(z) > 1.96):.1f} %, |z| > 2.5 {100 * np.mean(np.abs(z) > 2.5):.1f} % "
            f"(normal 5.0 %, 1.2 %); null changes declared {100 * declared.mean():.1f} % "
            f"[{100 * np.quantile(rates, 0.025):.1f}, {100 * np.quantile(rates, 0.975):.1f}] of "
            f"{len(declared)} model runs ({tests.mean():.2f} tests each), {100 * expected:.1f} % "
            f"expected from a spread of {s:.3f} alone")


def render(frame, cells, results, command: str) -> str:
    lines = [f"# {command}", f"# {time.strftime('%Y-%m-%d')}", ""]
    for scenario in cells["scenario"].unique():
        sub = cells[cells["scenario"] == scenario]
        seeds = frame.loc[frame["scenario"] == scenario, "seed"].nunique()
        lines.append(f"## {scenario} ({seeds} seeds)")
        lines.append("| measure | outcome | estimand | n | mean est | mean truth | bias | SE(bias) | bias/SE | mean SE | SD est | coverage | significant |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in sub.itertuples(index=False):
            lines.append(f"| {r.measure} | {r.outcome} | {r.estimand} | {r.n} | {r.mean_est:+.4f} | {r.mean_truth:+.4f} | "
                         f"{r.bias:+.4f} | {r.se_bias:.4f} | {r.z:+.2f} | {r.mean_se:.4f} | {r.sd_est:.4f} | "
                         f"{100 * r.coverage:.0f} % | {100 * r.significant:.0f} % |")
        lines.append("")
    errors = frame[frame["error"].notna()]
    if len(errors):
        lines.append(f"Estimates not computed: {len(errors)} ({', '.join(sorted(set(errors['error'])))})")
        lines.append("")
    lines.append("## checks")
    for name, passed, figure in results:
        lines.append(f"- [{'x' if passed else ' '}] {name}: {figure}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50, help="seeds of the default scenario (50)")
    parser.add_argument("--seeds-other", type=int, default=30, help="seeds of each other scenario (30)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel (processes)")
    parser.add_argument("--cache", default=".validate-pipeline", help="folder of the per-seed results")
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--methods", default="nearest",
                        help=f"comma-separated matching methods, or all ({', '.join(METHODS)}); default nearest")
    args = parser.parse_args(argv)
    methods = list(METHODS) if args.methods.strip() == "all" else [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        parser.error(f"--methods: unknown {', '.join(bad)}; expected some of {', '.join(METHODS)} or all")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"--scenarios: unknown {', '.join(unknown)}; expected some of {', '.join(SCENARIOS)}")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if args.jobs > 1:  # one BLAS thread per worker: the workers already fill the cores
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    # seed-major: an interrupted run has every method on its first seeds
    tasks = [(s, args.first_seed + SEED_OFFSET[s] + i, m) for s in scenarios
             for i in range(args.seeds if s == "default" else args.seeds_other) for m in methods]
    if args.fresh:
        for s, k, m in tasks:
            _cached(cache, s, k, m).unlink(missing_ok=True)
    run_all(tasks, cache, max(1, args.jobs))
    everything = load(tasks, cache)
    command = "python benchmarks/validate_pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out, passed = [], True
    for method in methods:
        frame = everything[everything["method"] == method].drop(columns="method")
        cells = cell_table(frame)
        results = checks(frame, cells)
        with_nearest = method != "nearest" and "nearest" in methods
        reference = everything[everything["method"] == "nearest"] if with_nearest else None
        passed &= all(p for _, p, _ in results)
        text = (render(frame, cells, results, command.strip()) + "\n- " + z_spread(frame, reference)
                + "\n- " + z_tails(frame))
        out.append(text if len(methods) == 1 else text.replace("\n## ", f"\n## {method}: ", ).replace(
            "## checks", f"## {method}: checks"))
    print("\n\n".join(out))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
