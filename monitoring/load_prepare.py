"""Preparing a read extract: free text dropped, raw person numbers pseudonymised, columns named.

Runs before anything touches the store, so that neither free text nor a raw person number
ever reaches DuckDB's file.
"""

from __future__ import annotations

import hashlib

from monitoring.contract import (
    DIRECT_IDENTIFIER_COLUMNS,
    FREE_TEXT_COLUMNS,
    PERSON_ID,
    RAW_PERSON_ID_COLUMNS,
    Table,
)
from monitoring.load_checks import column_problems
from monitoring.load_read import Extract
from monitoring.load_types import category
from monitoring.pseudonym import KEY_ENV, PseudonymKey, pseudonymise


def prepare_extract(extract: Extract, table: Table, key: PseudonymKey | None,
                    raw_ids: bool = False) -> None:
    """Drop free text, refuse direct identifiers, pseudonymise, then check column names.

    ``raw_ids``: the ``person_id`` columns hold raw person numbers (to be pseudonymised)."""
    if extract.data is None or extract.problems:
        return
    _drop_free_text(extract)
    for name in extract.data.column_names:
        if name.lower() in DIRECT_IDENTIFIER_COLUMNS:
            extract.problem("direct_identifier", f"column '{name}' identifies a person directly; "
                            "expected it to be removed from the extract", 1, name)
    _pseudonymise(extract, table, key, raw_ids)
    if not extract.problems:
        column_problems(extract, table)


def _drop_free_text(extract: Extract) -> None:
    dropped = [n for n in extract.data.column_names if n.lower() in FREE_TEXT_COLUMNS]
    for name in dropped:
        extract.data = extract.data.drop_columns([name])
        extract.notices.append(f"{extract.label}: dropped free-text column '{name}' "
                               "(free text is never stored)")


def _pseudonymise(extract: Extract, table: Table, key: PseudonymKey | None, raw_ids: bool) -> None:
    names = extract.data.column_names
    raw = [n for n in names if n in RAW_PERSON_ID_COLUMNS]
    if raw_ids and not raw and PERSON_ID in names:
        raw = [PERSON_ID]
    if not raw:
        return
    if not table.person_level:
        extract.problem("raw_identifier", f"column '{raw[0]}' holds person numbers, but table "
                        f"'{table.name}' has no persons; expected it to be removed", 1, raw[0])
    elif len(raw) > 1 or (PERSON_ID in names and raw != [PERSON_ID]):
        given = ", ".join(f"'{n}'" for n in (raw + [PERSON_ID] if PERSON_ID in names else raw))
        extract.problem("raw_identifier", f"columns {given} all identify the person; expected "
                        "exactly one of person_id (pseudonym) or " + ", ".join(RAW_PERSON_ID_COLUMNS), 1)
    elif key is None:
        extract.problem("pseudonym_key", f"column '{raw[0]}' holds raw person numbers, but no "
                        f"pseudonym key was given; expected ${KEY_ENV} or --key-file", 1, raw[0])
    else:
        _replace_raw(extract, raw[0], key)


def _replace_raw(extract: Extract, column: str, key: PseudonymKey) -> None:
    import pyarrow as pa

    data = extract.data
    values = data.column(column)
    if category(values.type) != "string":
        extract.problem("type", f"expected the raw person numbers as text (so that leading zeros "
                        f"are kept); got {values.type}", 1, column)
        return
    pseudonyms = pa.array(pseudonymise(values.to_pylist(), key), pa.string())
    index = data.column_names.index(column)
    extract.data = data.set_column(index, PERSON_ID, pseudonyms)
    extract.content_hash = hashlib.sha256(
        f"{extract.content_hash}\n{key.fingerprint}".encode()
    ).hexdigest()
    extract.pseudonymised = True
    what = f"'{column}'" if column != PERSON_ID else "raw person numbers in 'person_id'"
    extract.notices.append(f"{extract.label}: {what} replaced by keyed pseudonyms in person_id")
