"""The files of an extract folder: one file per table, named after the table.

Kept apart from :mod:`monitoring.load` so that a repeated load (:mod:`monitoring.load_repeat`)
finds the files without importing the full loader and the panel.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from monitoring.contract import CONTRACT
from monitoring.load_problems import ExtractError, Problem, ProblemList
from monitoring.load_read import SUFFIXES


def scan_directory(directory: Path) -> tuple[dict[str, Path], ProblemList, list[str]]:
    """The extract file of each table in ``directory``, the problems of the folder's names
    (unknown tables, duplicates, folders, pipes) and notices of ignored files. A missing
    folder or one without extract files is an :class:`ExtractError`."""
    if not directory.is_dir():
        raise ExtractError(f"{directory}: no such folder; expected a folder of extract files "
                           "(persons.csv, residence.csv, ...)")
    paths: dict[str, Path] = {}
    problems, notices = ProblemList(), []
    for path in sorted(directory.iterdir()):
        if path.name.startswith((".", "~$")):
            continue
        if path.is_dir():
            if path.suffix.lower() in SUFFIXES:  # a folder (or a link to one) named like an extract file
                what = "a symbolic link to a folder" if path.is_symlink() else "a folder"
                problems.add(Problem(path.name, "not_a_file", f"{what}; expected an extract file"))
            continue
        if path.suffix.lower() not in SUFFIXES:
            notices.append(f"{path.name}: ignored (not .csv, .parquet or .xlsx)")
            continue
        table = path.name[: -len(path.suffix)]
        if not path.is_file():  # a pipe or device would block the read; a dangling link has no data
            what = "a symbolic link to nothing" if not path.exists() else "not a regular file (a pipe or device?)"
            problems.add(Problem(path.name, "not_a_file", f"{what}; expected an extract file"))
        elif table not in CONTRACT:
            problems.add(Problem(path.name, "unknown_table", unknown_table(table)))
        elif table in paths:
            problems.add(Problem(path.name, "duplicate_table", f"table '{table}' is also in "
                                 f"{paths[table].name}; expected one file per table"))
        else:
            paths[table] = path
    if not paths and not problems:
        raise ExtractError(f"{directory}: no extract files; expected files named after the tables, "
                           f"e.g. persons.csv or residence.parquet ({', '.join(CONTRACT)})")
    return paths, problems, notices


def unknown_table(table: str) -> str:

    close = difflib.get_close_matches(table, list(CONTRACT), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown table '{table}'; {hint}expected one of {', '.join(CONTRACT)}"
