"""What the store already holds, as a load needs to know it: the key its persons were
pseudonymised with (:func:`check_key`) and the content hash of each table's last load
(:func:`current_hashes`). Used by :mod:`monitoring.load` and :mod:`monitoring.load_repeat`."""

from __future__ import annotations

from typing import Any

from monitoring.contract import CONTRACT
from monitoring.load_problems import ExtractError
from monitoring.load_read import Extract
from monitoring.pseudonym import PseudonymKey


def check_key(con: Any, extracts: list[Extract], source: str, key: PseudonymKey | None, rekey: bool) -> None:
    """Refuse, in one line, a delivery pseudonymised with another key than the store's.

    Pseudonyms under another key never link with the stored ones, so such a delivery would
    either break every reference (a partial delivery) or silently re-pseudonymise the store
    (a full one). With ``rekey`` a new key is taken on purpose: the delivery must then hold
    every person table the store has rows in, all pseudonymised with the new key; they
    replace the stored ones in the load's one transaction.
    """
    keyed = [e for e in extracts if e.pseudonymised]
    if key is None or not keyed:
        return
    row = latest_key(con)
    if key_agrees(True, key, row):
        return
    old, load_id = row
    if not rekey:
        raise ExtractError(
            f"{source}: the pseudonym key ({key.origin}, fingerprint {key.fingerprint}) is not the key the store's "
            f"persons were pseudonymised with (fingerprint {old}, load {load_id}); nothing was loaded. Use the "
            "store's key, or re-key the whole store on purpose with --rekey and a delivery of every person table")
    held = {e.table for e in keyed}
    missing = [t for t in _person_tables_with_rows(con) if t not in held]
    if missing:
        raise ExtractError(
            f"{source}: --rekey needs every person table of the store in the delivery, pseudonymised with the new "
            f"key; missing: {', '.join(missing)}; nothing was loaded")


def latest_key(con: Any) -> tuple[str, int] | None:
    """(fingerprint, load id) of the latest load that pseudonymised persons; None: none did."""
    row = con.execute("SELECT key_fingerprint, load_id FROM loads WHERE key_fingerprint IS NOT NULL "
                      "ORDER BY load_id DESC LIMIT 1").fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def key_agrees(keyed: bool, key: PseudonymKey | None, latest: tuple[str, int] | None) -> bool:
    """:func:`check_key` lets the load pass without asking about --rekey."""
    return key is None or not keyed or latest is None or latest[0] == key.fingerprint


def _person_tables_with_rows(con: Any) -> list[str]:
    tables = [t.name for t in CONTRACT.values() if t.person_level]
    return [t for t in tables if con.execute(f"SELECT count(*) > 0 FROM main.{t}").fetchone()[0]]


def current_hashes(con: Any) -> dict[str, tuple[str, int, int]]:
    """Per table: (content hash, load id, rows) of the load that put it in the store."""
    rows = con.execute(
        "SELECT table_name, content_hash, load_id, row_count FROM loads "
        "QUALIFY row_number() OVER (PARTITION BY table_name ORDER BY load_id DESC) = 1"
    ).fetchall()
    return {t: (h, int(i), int(n)) for t, h, i, n in rows}
