"""Faults: a full disk during every writing command, SIGKILL at many moments, concurrent writers.

Each gets one message, the documented exit code, no traceback, no register value in the
output, and a store whose content is unchanged or complete.

The full disk is a small tmpfs mounted for the test (CI runs as root on Debian; the tests
are skipped with the reason where mounting is not allowed).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VV = str(ROOT / "models" / "veien-videre.yaml")
MODELS = [str(p) for p in sorted((ROOT / "models").glob("*.yaml")) if p.name != "indicators.yaml"]
TODAY = "2014-01-15"


def tiltak(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")  # numerical warnings of the estimators are not the point here
    return subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env)


def _can_mount() -> str | None:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return "mounting a small tmpfs needs root (CI runs as root)"
    probe = Path("/tmp") / f"tiltak-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True)
        if done.returncode != 0:
            return f"mount -t tmpfs is not allowed here: {done.stderr.decode(errors='replace').strip()}"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    finally:
        probe.rmdir()


MOUNT_PROBLEM = _can_mount()
needs_mount = pytest.mark.skipif(MOUNT_PROBLEM is not None, reason=MOUNT_PROBLEM or "")


@contextmanager
def small_disk(path: Path, size_kib: int):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill the disk, then free ``leave_bytes`` again."""
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    if leave_bytes:
        size = filler.stat().st_size
        os.truncate(filler, max(size - leave_bytes, 0))


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults") / "extract"
    made = tiltak("synth", "--csv", str(folder), "--scale", "0.2", "--months", "24", "--seed", "2")
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture(scope="module")
def stores(extract, tmp_path_factory):
    """A loaded store, and a copy with the monitoring runs and estimates done."""
    base = tmp_path_factory.mktemp("stores")
    loaded = base / "loaded.duckdb"
    assert tiltak("load", "--db", str(loaded), str(extract)).returncode == 0
    monitored = base / "monitored.duckdb"
    shutil.copy(loaded, monitored)
    done = tiltak("monitor", "run", *MODELS, "--db", str(monitored), "--as-of", TODAY)
    assert done.returncode == 0, done.stderr
    return loaded, monitored


def pseudonyms(store: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT person_id FROM persons").fetchall()}
    finally:
        con.close()


def content(store: Path) -> str:
    """A digest of every table of a store (its content, not its bytes)."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        digest = hashlib.sha256()
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        for table in tables:
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type NOT LIKE "
                "'TIMESTAMP%' AND column_name NOT IN ('source', 'started_at', 'finished_at') ORDER BY ordinal_position",
                [table]).fetchall()]  # when and from which folder: not content
            rows = con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"').fetchall()
            digest.update(table.encode())
            digest.update(repr(sorted(map(repr, rows))).encode())
        return digest.hexdigest()
    finally:
        con.close()


def assert_one_clean_message(result: subprocess.CompletedProcess, secrets: set[str], code: int = 2) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert re.search(r"no space|disk is full|No space left", lines[0], re.IGNORECASE), lines[0]
    assert not [s for s in secrets if s in output]


def _copy_back(disk: Path, name: str, to: Path) -> Path:
    """Copy a store (and its WAL) off the full disk, so it can be opened and compared."""
    to.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        if (disk / (name + suffix)).exists():
            shutil.copy(disk / (name + suffix), to / (name + suffix))
    return to / name


# ---- a full disk during every writing command ------------------------------------------------


@pytest.mark.slow
@needs_mount
@pytest.mark.parametrize("leave", [0, 96 * 1024])
def test_load_into_a_new_store_on_a_full_disk(extract, stores, tmp_path, leave):
    secrets = pseudonyms(stores[0])
    with small_disk(tmp_path / "disk", 2048) as disk:
        fill(disk, leave)
        result = tiltak("load", "--db", str(disk / "new.duckdb"), str(extract))
        assert_one_clean_message(result, secrets)
        assert not (disk / "new.duckdb").exists()  # no half-made store under the real name
        assert not list(disk.glob(".new.duckdb.loading-*"))


@needs_mount
def test_load_into_an_existing_store_on_a_full_disk(extract, stores, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(extract, changed)
    persons = (changed / "persons.csv").read_text().splitlines()
    (changed / "persons.csv").write_text("\n".join(persons[:-1]) + "\n")  # one person fewer: a new content
    for table in ("residence", "decisions", "exits", "participation", "applications", "surveys"):
        path = changed / f"{table}.csv"
        dropped = persons[-1].split(",")[0]
        path.write_text("\n".join(l for l in path.read_text().splitlines() if not l.startswith(dropped + ",")) + "\n")
    before = content(stores[0])
    secrets = pseudonyms(stores[0])
    size = stores[0].stat().st_size // 1024
    with small_disk(tmp_path / "disk", size + 256) as disk:
        shutil.copy(stores[0], disk / "s.duckdb")
        fill(disk, 64 * 1024)
        result = tiltak("load", "--db", str(disk / "s.duckdb"), str(changed))
        assert_one_clean_message(result, secrets)
        copy = _copy_back(disk, "s.duckdb", tmp_path / "after")
    assert content(copy) == before


@pytest.mark.slow
@needs_mount
@pytest.mark.parametrize("leave", [0, 128 * 1024])
def test_monitor_run_on_a_full_disk_leaves_the_store_as_it_was(stores, tmp_path, leave):
    before = content(stores[0])
    secrets = pseudonyms(stores[0])
    size = stores[0].stat().st_size // 1024
    with small_disk(tmp_path / "disk", size + 512) as disk:
        shutil.copy(stores[0], disk / "s.duckdb")
        fill(disk, leave)
        result = tiltak("monitor", "run", *MODELS, "--db", str(disk / "s.duckdb"), "--as-of", TODAY)
        assert_one_clean_message(result, secrets)
        copy = _copy_back(disk, "s.duckdb", tmp_path / "after")
    assert content(copy) == before  # not even the migration was kept
    again = tiltak("monitor", "run", VV, "--db", str(copy), "--as-of", TODAY)
    assert again.returncode == 0, again.stderr


@needs_mount
def test_show_xlsx_onto_a_full_disk_writes_nothing(stores, tmp_path):
    secrets = pseudonyms(stores[1])
    with small_disk(tmp_path / "disk", 512) as disk:
        fill(disk, 4096)
        result = tiltak("monitor", "show", VV, "--db", str(stores[1]), "--by", "centre", "--format", "xlsx",
                        "-o", str(disk / "vv.xlsx"))
        assert_one_clean_message(result, secrets)
        assert [p.name for p in disk.iterdir()] == ["filler"]


@needs_mount
def test_synth_into_a_full_disk_leaves_no_store(tmp_path):
    with small_disk(tmp_path / "disk", 1024) as disk:
        fill(disk, 64 * 1024)
        result = tiltak("synth", "--db", str(disk / "s.duckdb"), "--scale", "0.2", "--months", "24")
        assert_one_clean_message(result, set())
        assert not (disk / "s.duckdb").exists()


@needs_mount
@pytest.mark.parametrize("command", ["estimate", "evaluate"])
def test_estimate_and_evaluate_on_a_full_disk(stores, tmp_path, command):
    before = content(stores[1])
    secrets = pseudonyms(stores[1])
    size = stores[1].stat().st_size // 1024
    with small_disk(tmp_path / "disk", size + 256) as disk:
        shutil.copy(stores[1], disk / "s.duckdb")
        fill(disk, 0)
        extra = ["--out", str(disk / "report")] if command == "evaluate" else []
        result = tiltak(command, *MODELS, "--db", str(disk / "s.duckdb"), *extra)
        assert_one_clean_message(result, secrets)
        copy = _copy_back(disk, "s.duckdb", tmp_path / "after")
        assert not (disk / "report" / "report.html").exists()
    assert content(copy) == before


@needs_mount
def test_graph_onto_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", 256) as disk:
        fill(disk, 1024)
        result = tiltak("graph", VV, "-o", str(disk / "vv.svg"))
        assert_one_clean_message(result, set())
        assert not (disk / "vv.svg").exists()


# ---- SIGKILL at many moments -----------------------------------------------------------------


def _killed_at(args: list[str], delay: float) -> int:
    process = subprocess.Popen([sys.executable, "-m", "tiltak", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return -9


def _duration(args: list[str]) -> float:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tiltak", *args], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


MOMENTS = 5


@pytest.mark.slow
def test_load_killed_at_many_moments_leaves_no_store_or_a_complete_one(extract, stores, tmp_path):
    complete = content(stores[0])
    duration = _duration(["load", "--db", str(tmp_path / "timing.duckdb"), str(extract)])
    for n in range(1, MOMENTS + 1):
        db = tmp_path / f"k{n}.duckdb"
        _killed_at(["load", "--db", str(db), str(extract)], duration * n / (MOMENTS + 1))
        assert not db.exists() or content(db) == complete, n
        again = tiltak("load", "--db", str(db), str(extract))
        assert again.returncode == 0 and content(db) == complete, again.stderr


@pytest.mark.slow
def test_monitor_run_killed_at_many_moments_leaves_the_store_unchanged_or_complete(stores, tmp_path):
    before = content(stores[0])
    timing = tmp_path / "timing.duckdb"
    shutil.copy(stores[0], timing)
    args = ["monitor", "run", VV, "--as-of", TODAY, "--db"]
    duration = _duration([*args, str(timing)])
    complete = content(timing)
    for n in range(1, MOMENTS + 1):
        db = tmp_path / f"k{n}.duckdb"
        shutil.copy(stores[0], db)
        _killed_at([*args, str(db)], duration * n / (MOMENTS + 1))
        assert content(db) in (before, complete), n
    again = tiltak(*args, str(db))  # and the next run does the work
    assert again.returncode == 0 and content(db) == complete, again.stderr


# ---- concurrent writers ----------------------------------------------------------------------


def _together(*commands: list[str]) -> list[subprocess.CompletedProcess]:
    processes = [subprocess.Popen([sys.executable, "-m", "tiltak", *c], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for c in commands]
    out = []
    for command, process in zip(commands, processes):
        stdout, stderr = process.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return out


def _load_ids(db: Path) -> list[int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT load_id FROM loads ORDER BY 1").fetchall()]
    finally:
        con.close()


@pytest.mark.slow
def test_two_first_loads_into_a_new_store_at_once(extract, stores, tmp_path):
    db = tmp_path / "new.duckdb"
    results = _together(["load", "--db", str(db), str(extract)], ["load", "--db", str(db), str(extract)])
    loaded = [r for r in results if "as load 1" in r.stdout]
    assert len(loaded) == 1, [r.stdout + r.stderr for r in results]
    for r in results:
        assert "Traceback" not in r.stderr
        assert r.returncode == 0 or (r.returncode == 2 and "being written by another process" in r.stderr), r.stderr
    assert _load_ids(db) == [1] and content(db) == content(stores[0])


@pytest.mark.slow
def test_concurrent_writers_on_an_existing_store(extract, stores, tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(stores[0], db)
    changed = tmp_path / "changed"
    changed.mkdir()
    costs = (extract / "costs.csv").read_text().splitlines()
    (changed / "costs.csv").write_text("\n".join(costs[:-1]) + "\n")
    results = _together(["load", "--db", str(db), str(changed)],
                        ["monitor", "run", VV, "--db", str(db), "--as-of", TODAY])
    for r in results:
        assert "Traceback" not in r.stderr, r.stderr
        assert r.returncode == 0 or (r.returncode == 2 and "another" in r.stderr and len(r.stderr.splitlines()) == 1), r.stderr
    succeeded_load = results[0].returncode == 0
    assert _load_ids(db) == ([1, 2] if succeeded_load else [1])
