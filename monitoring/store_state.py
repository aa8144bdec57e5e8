"""What the store holds, as a repeated load needs it, kept in a small file beside the store.

A repeated load asks the store three things: the content hash of each table's last load,
the fingerprint of the key its persons were pseudonymised with, and whether its schema is
the one this code writes. Opening the store to ask costs more than the rest of a repeated
load (importing DuckDB alone is about a third of DuckDB's own read of a 250,000-row
extract), so every load writes the answers to ``<store>.state`` (JSON) together with the
store file's identity, and the next load reads them there instead, when it can prove that
the store file has not changed since.

The rule (correctness first; when in doubt the store itself is asked):

- The answers are taken from the open store after a ``CHECKPOINT``, while this process holds
  DuckDB's lock on the file and the loader's writer lock, and the file's identity with them:
  device, inode, size, modification and change times (``os.stat``, nanoseconds).
- The state is written only when the file system's clock has moved past the file's last
  modification (checked on a marker file in the same folder, waiting a few milliseconds if
  needed) before the lock is released, and only when closing the store did not write it.
  Any later write to the store, by any process, then gives it a newer modification time
  even on a file system whose timestamps are coarse.
- A load trusts the state only when the store file's identity is exactly the recorded one,
  there is no ``<store>.wal`` (an uncheckpointed write), the state names this format and the
  schema versions this code expects; anything else (no state, a damaged one, a copied or
  restored store, a store written by ``tiltak monitor run``) is answered by the store.
- A load that writes removes the state before its transaction. Removing the file by hand
  is always safe: the next load asks the store and writes it again.

The state holds content hashes, load numbers, row counts and the public key fingerprint
(all kept in the store's ``loads`` table as well): no identifier and no value of a register.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitoring import migrations
from monitoring.load_held import current_hashes, latest_key

FORMAT = 1
SUFFIX = ".state"
_TICK_WAIT = 0.2  # seconds at most to wait for the file system's clock to move on


@dataclass(frozen=True)
class HeldState:
    """The store's answers to a repeated load."""

    schema: dict[str, int]  # applied schema version per component
    tables: dict[str, tuple[str, int, int]]  # table -> (content hash, load id, rows) of its last load
    key: tuple[str, int] | None  # (fingerprint, load id) of the latest pseudonymising load

    def current(self) -> bool:
        """Opening the store would apply no migration and refuse nothing (as
        :meth:`monitoring.store.Store.check_versions` decides)."""
        return not migrations.pending_components(self.schema)


def read_held(con: Any) -> HeldState:
    """The answers from an open store connection."""
    rows = con.execute("SELECT component, max(version) FROM schema_version GROUP BY component").fetchall()
    return HeldState({c: int(v) for c, v in rows}, current_hashes(con), latest_key(con))


def state_path(db_path: str | Path) -> Path:
    return Path(os.path.realpath(db_path) + SUFFIX)


def recorded_state(db_path: str | Path) -> HeldState | None:
    """The recorded answers when they provably describe the store file as it is; else None."""
    path = state_path(db_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        identity = _identity(db_path)
        if data["format"] != FORMAT or data["store"] != list(identity) or _has_wal(db_path):
            return None
        state = HeldState({str(c): int(v) for c, v in data["schema"].items()},
                          {str(t): (str(h), int(i), int(n)) for t, (h, i, n) in data["tables"].items()},
                          None if data["key"] is None else (str(data["key"][0]), int(data["key"][1])))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return state if state.current() else None


@dataclass(frozen=True)
class Snapshot:
    """The answers and the identity of a closed store file, ready to be written."""

    state: HeldState
    identity: tuple[int, ...]


def close_and_snapshot(store: Any) -> Snapshot | None:
    """Checkpoint and close ``store`` (a :class:`monitoring.store.Store`), taking its answers
    and identity as the rule above requires; None when they cannot be proved."""
    try:
        con = store.connect()
        state = read_held(con)
        con.execute("CHECKPOINT")
        before = _identity(store.path)
    except Exception:  # noqa: BLE001 - a failed checkpoint (a full disk) leaves the load as it is, without a state
        return None
    moved = _clock_past(store.path, max(before[3], before[4]))
    store.close()
    if not moved or _identity(store.path) != before or _has_wal(store.path):
        return None
    return Snapshot(state, before)


def write_state(db_path: str | Path, snapshot: Snapshot | None, *, renamed: bool = False) -> None:
    """Write the snapshot beside the store (``renamed``: the store file was renamed to
    ``db_path`` since, which changes only its change time). Never fails a load: a state that
    cannot be written is simply absent."""
    forget_state(db_path)
    if snapshot is None:
        return
    identity = snapshot.identity
    try:
        if renamed:
            now = _identity(db_path)
            if now[:4] != identity[:4]:
                return
            identity = now
        state = snapshot.state
        text = json.dumps({"format": FORMAT, "store": list(identity), "schema": state.schema,
                           "tables": {t: list(v) for t, v in state.tables.items()},
                           "key": None if state.key is None else list(state.key)}, sort_keys=True)
        path = state_path(db_path)
        work = path.with_name(f".{path.name}-{os.getpid()}")
        work.write_text(text + "\n", encoding="utf-8")
        os.replace(work, path)
    except OSError:
        forget_state(db_path)


def forget_state(db_path: str | Path) -> None:
    """Remove the recorded state (before a load writes the store)."""
    try:
        state_path(db_path).unlink(missing_ok=True)
    except OSError:
        pass


def _identity(db_path: str | Path) -> tuple[int, ...]:
    s = os.stat(db_path)
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _has_wal(db_path: str | Path) -> bool:
    return os.path.lexists(f"{db_path}.wal") or os.path.lexists(os.path.realpath(db_path) + ".wal")


def _clock_past(db_path: str | Path, last_ns: int) -> bool:
    """Wait until the file system's clock in the store's folder is past ``last_ns``."""
    marker = state_path(db_path).with_name(f".{Path(db_path).name}.tick-{os.getpid()}")
    deadline = time.monotonic() + _TICK_WAIT
    try:
        while True:
            marker.touch()
            os.utime(marker)
            if os.stat(marker).st_mtime_ns > last_ns:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
    except OSError:
        return False
    finally:
        try:
            marker.unlink(missing_ok=True)
        except OSError:
            pass
