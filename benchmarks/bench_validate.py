"""Time ``tiltak validate`` on the shipped models and on 1,000 generated models.

Usage: python benchmarks/bench_validate.py [--models 1000] [--nodes 24] [--repeat 3]

Prints wall-clock seconds (time.perf_counter) of the command in a fresh process (start-up
included), the shipped models against the floor (importing the libraries the command needs,
alternated with it; wall and CPU seconds), per-model cost, and the in-process time of
``validate_paths`` alone.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from logicmodel.yamlsource import dump_yaml  # noqa: E402

LEVEL_PLAN = [("input", None), ("activity", None), ("output", None), ("outcome", "short"), ("outcome", "medium"), ("outcome", "long"), ("impact", None)]
INDICATORS = ["participants", "sessions_attended", "completion_share", "hscl10_mean", "mi_importance_mean",
              "applications_per_100_participants", "assisted_returns_per_100_participants", "long_stay_share"]


def generated_model(index: int, size: int, rng: random.Random) -> dict:
    """A valid model of about ``size`` nodes spread over the levels, linked forward."""
    per_level = max(1, size // len(LEVEL_PLAN))
    nodes, layers = [], []
    for level, horizon in LEVEL_PLAN:
        layer = []
        for k in range(per_level if level != "impact" else 1):
            node = {"id": f"{level}_{horizon or 'x'}_{k}", "level": level, "title": {"nb": f"Node {k} på nivå {level}", "en": f"Node {k}"}}
            if horizon:
                node["horizon"] = horizon
            if level in ("outcome", "impact"):
                node["indicators"] = [rng.choice(INDICATORS)]
            layer.append(node["id"])
            nodes.append(node)
        layers.append(layer)
    pairs: dict[str, set[str]] = {}
    for upper, lower in zip(layers, layers[1:]):
        for k, target in enumerate(lower):
            pairs.setdefault(upper[k % len(upper)], set()).add(target)
        for k, source in enumerate(upper):
            pairs.setdefault(source, set()).add(lower[rng.randrange(len(lower))])
    links = [{"from": source, "to": sorted(targets), "mechanism": "fordi", "lag_months": rng.randint(0, 6)} for source, targets in pairs.items()]
    return {
        "id": f"model-{index}", "title": f"Generert modell {index}", "version": "1", "measure": "VV",
        "period": {"start": "2011-01", "end": None}, "catalogue": "indicators.yaml", "nodes": nodes, "links": links,
        "expected_changes": [{"id": "return_up", "node": layers[-2][0], "outcome": "assisted_return_12m", "direction": "increase",
                              "min_change": 0.05, "horizon_months": 12}],
        "evaluation": {"treatment": {"measure": "VV"}, "covariates": ["age", "sex", "nationality"], "tests": ["return_up"]},
        "monitoring": {"indicators": sorted({i for n in nodes for i in n.get("indicators", [])})},
        "costs": {"per_participant_nok": 10000},
    }


def write_models(folder: Path, count: int, size: int) -> None:
    rng = random.Random(20260101)
    shutil.copy(REPO / "models" / "indicators.yaml", folder / "indicators.yaml")
    for index in range(count):
        (folder / f"model-{index:04d}.yaml").write_text(dump_yaml(generated_model(index, size, rng)), encoding="utf-8")


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The children's environment: with cached bytecode, as users run the command (with
PYTHONDONTWRITEBYTECODE set, every module of the package would be compiled in every run)."""


def timed_command(args: list[str], repeat: int) -> tuple[float, int, str]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=REPO,
                                env=CHILD_ENV)
        times.append(time.perf_counter() - start)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    return statistics.median(times), result.returncode, summary


FLOOR_IMPORTS = "import pydantic, networkx, yaml, sqlglot, sqlglot.dialects.duckdb, click"
"""The libraries `tiltak validate` needs (models, graph, YAML, the SQL screen, the command
line): importing them in a fresh process is the floor of the command's start-up."""

FLOOR_WITH_MODELS = FLOOR_IMPORTS + "; from pydantic import BaseModel, TypeAdapter"
"""The same with pydantic's model classes imported: ``import pydantic`` (2.x) defers them
(its ``__getattr__`` imports ``pydantic.main`` and the schema machinery on first use), so
the plain import leaves out part of the library every schema needs. Both floors are shown."""


FLOOR_WITH_A_MODEL = FLOOR_WITH_MODELS + ", Field"
"""The same with ``pydantic.fields`` (``FieldInfo``), which pydantic imports when the first
model class is created, whatever its fields (it brings ``annotated_types`` and
``pydantic.types``, about 12 ms of CPU): every schema of the command needs it, as it needs
``BaseModel``; importing ``Field`` costs the same as defining one trivial model class. The
three floors are shown; the target is read against this one (round 7 of
docs/performance.md)."""


FLOOR_WITHOUT_COLLECTOR = "import gc; gc.disable(); " + FLOOR_WITH_A_MODEL
"""The last floor with Python's cyclic garbage collector off, as `tiltak validate` runs
(round 7): the collector's passes cost about 60 ms of the libraries' own import, so this
floor shows how much of the command's gain is the libraries' and how much its own."""


FLOOR_AS_VALIDATE_RUNS = "import gc; gc.disable(); " + FLOOR_IMPORTS + "; gc.freeze()"
"""The plain floor with the collector as `tiltak validate` runs it since round 8: off, and
every object frozen before the exit, so that Python's exit collections scan nothing. The
libraries' own share of that gain is large (round 8 of docs/performance.md): against this
floor the command's own work shows, which the other floors mix with the collector's."""


def wall_and_cpu(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def against_floor(repeat: int) -> None:
    """`tiltak validate models/` and the floor alternated round by round; medians."""
    commands = {"validate": [sys.executable, "-m", "tiltak", "validate", "models"],
                "floor": [sys.executable, "-c", FLOOR_IMPORTS],
                "floor with models": [sys.executable, "-c", FLOOR_WITH_MODELS],
                "floor with a model": [sys.executable, "-c", FLOOR_WITH_A_MODEL],
                "floor, collector off": [sys.executable, "-c", FLOOR_WITHOUT_COLLECTOR],
                "floor as validate runs": [sys.executable, "-c", FLOOR_AS_VALIDATE_RUNS]}
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for command in commands.values():  # a warm-up round: bytecode written, files cached
        wall_and_cpu(command)
    for _ in range(max(repeat, 5)):
        for name, command in commands.items():
            runs[name].append(wall_and_cpu(command))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    print(f"tiltak validate models/ vs the floors, median of {len(runs['floor'])} alternated rounds "
          f"(load average {os.getloadavg()[0]:.2f}):")
    print(f"  validate {wall['validate']:.3f} s wall {cpu['validate']:.3f} s CPU")
    for name, imports in (("floor", FLOOR_IMPORTS), ("floor with models", FLOOR_WITH_MODELS),
                          ("floor with a model", FLOOR_WITH_A_MODEL),
                          ("floor, collector off", FLOOR_WITHOUT_COLLECTOR),
                          ("floor as validate runs", FLOOR_AS_VALIDATE_RUNS)):
        print(f"  {name} ({imports!r}): {wall[name]:.3f} s wall {cpu[name]:.3f} s CPU; ratio "
              f"{wall['validate'] / wall[name]:.2f} wall, {cpu['validate'] / cpu[name]:.2f} CPU (target <= 1.3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    seconds, code, summary = timed_command(["--help"], options.repeat)
    print(f"tiltak --help (start-up)               : {seconds:7.3f} s")
    seconds, code, summary = timed_command(["validate", "models"], options.repeat)
    print(f"tiltak validate models/ (shipped)      : {seconds:7.3f} s  exit {code}  [{summary}]")
    against_floor(options.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_models(folder, options.models, options.nodes)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        seconds, code, summary = timed_command(["validate", str(folder)], options.repeat)
        print(f"tiltak validate {options.models} generated models: {seconds:7.3f} s  exit {code}  [{summary}]  ({size:.1f} MB)")
        print(f"  per model                            : {1000 * seconds / options.models:7.2f} ms")
        from logicmodel.validation import validate_paths

        start = time.perf_counter()
        report = validate_paths([str(folder)])
        inside = time.perf_counter() - start
        print(f"  validate_paths in-process            : {inside:7.3f} s  ({1000 * inside / options.models:.2f} ms per model, {report.errors} errors)")
    print(f"cpu count: {os.cpu_count()}")


if __name__ == "__main__":
    main()
