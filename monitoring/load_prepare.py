"""Preparing a read extract: free text dropped, raw person numbers pseudonymised, columns named.

Runs before anything touches the store, so that neither free text nor a raw person number
ever reaches DuckDB's file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from monitoring.contract import (
    DIRECT_IDENTIFIER_COLUMNS,
    FREE_TEXT_COLUMNS,
    PERSON_ID,
    RAW_PERSON_ID_COLUMNS,
    Table,
)
from monitoring.load_checks import column_name_problems, column_problems
from monitoring.load_read import CsvFile, Extract, read_in_python
from monitoring.load_types import category
from monitoring.pseudonym import KEY_ENV, PseudonymKey, pseudonymise


def prepare_extract(extract: Extract, table: Table, key: PseudonymKey | None,
                    raw_ids: bool = False) -> None:
    """Drop free text, refuse direct identifiers, pseudonymise, then check column names.

    ``raw_ids``: the ``person_id`` columns hold raw person numbers (to be pseudonymised)."""
    if extract.data is None or extract.problems:
        return
    plan = HeaderPlan.of(extract.data.column_names, table, key, raw_ids)
    if isinstance(extract.data, CsvFile) and not _plain_header(extract.data, plan, table):
        read_in_python(extract)  # values to pseudonymise, or problems: as the Python readers see the file
        if extract.data is None or extract.problems:
            return
    for name in plan.free_text:
        extract.data = extract.data.drop_columns([name])
    extract.notices.extend(plan.free_text_notices(extract.label))
    for kind, message, row, column in plan.problems:
        extract.problem(kind, message, row, column)
    if plan.raw is not None:
        _replace_raw(extract, plan.raw, key)
    if not extract.problems:
        column_problems(extract, table)


def _plain_header(data: CsvFile, plan: "HeaderPlan", table: Table) -> bool:
    """Nothing to pseudonymise and no problem in the names: DuckDB may read the file."""
    kept = [n for n in data.column_names if n not in plan.free_text]
    return plan.raw is None and not plan.problems and not column_name_problems(kept, table)


@dataclass(frozen=True)
class HeaderPlan:
    """What preparing an extract does, decided by its column names alone: the free-text
    columns it drops, the problems of direct and raw identifiers, and the raw person-number
    column it pseudonymises (None: none)."""

    free_text: tuple[str, ...]
    problems: tuple[tuple[str, str, int, str | None], ...]
    raw: str | None

    @classmethod
    def of(cls, names: list[str], table: Table, key: PseudonymKey | None,
           raw_ids: bool) -> "HeaderPlan":
        free_text = tuple(n for n in names if n.lower() in FREE_TEXT_COLUMNS)
        names = [n for n in names if n not in free_text]
        problems = [("direct_identifier", f"column '{name}' identifies a person directly; "
                     "expected it to be removed from the extract", 1, name)
                    for name in names if name.lower() in DIRECT_IDENTIFIER_COLUMNS]
        raw = [n for n in names if n in RAW_PERSON_ID_COLUMNS]
        if raw_ids and not raw and PERSON_ID in names:
            raw = [PERSON_ID]
        if not raw:
            return cls(free_text, tuple(problems), None)
        problem = _raw_problem(raw, names, table, key)
        if problem is not None:
            problems.append(problem)
        return cls(free_text, tuple(problems), raw[0] if problem is None else None)

    def free_text_notices(self, label: str) -> list[str]:
        return [f"{label}: dropped free-text column '{name}' (free text is never stored)"
                for name in self.free_text]


def _raw_problem(raw: list[str], names: list[str], table: Table,
                 key: PseudonymKey | None) -> tuple[str, str, int, str | None] | None:
    if not table.person_level:
        return ("raw_identifier", f"column '{raw[0]}' holds person numbers, but table "
                f"'{table.name}' has no persons; expected it to be removed", 1, raw[0])
    if len(raw) > 1 or (PERSON_ID in names and raw != [PERSON_ID]):
        given = ", ".join(f"'{n}'" for n in (raw + [PERSON_ID] if PERSON_ID in names else raw))
        return ("raw_identifier", f"columns {given} all identify the person; expected "
                "exactly one of person_id (pseudonym) or " + ", ".join(RAW_PERSON_ID_COLUMNS), 1, None)
    if key is None:
        return ("pseudonym_key", f"column '{raw[0]}' holds raw person numbers, but no "
                f"pseudonym key was given; expected ${KEY_ENV} or --key-file", 1, raw[0])
    return None


def keyed_hash(content_hash: str, key: PseudonymKey) -> str:
    """The content hash of a pseudonymised table: the file's, with the key's fingerprint."""
    return hashlib.sha256(f"{content_hash}\n{key.fingerprint}".encode()).hexdigest()


def pseudonym_notice(label: str, column: str) -> str:
    what = f"'{column}'" if column != PERSON_ID else "raw person numbers in 'person_id'"
    return f"{label}: {what} replaced by keyed pseudonyms in person_id"


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
    extract.content_hash = keyed_hash(extract.content_hash, key)
    extract.pseudonymised = True
    extract.notices.append(pseudonym_notice(extract.label, column))
