"""The SQL panel against an independent, deliberately plain Python implementation of the
rules in docs/data-contract.md, on random registers (several seeds)."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pandas as pd
import pytest

from monitoring.load import load_tables

TODAY = dt.date(2015, 1, 1)
COLUMNS = ("person_id", "month", "centre_id", "return_agreement", "age", "age_band", "months_since_decision",
           "months_in_reception", "measure", "participating", "enrolled", "exit_type", "applied")
BANDS = ((18, "0-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (999, "55+"))


def day(rng: random.Random, start: dt.date, span: int) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(span))


def first_of(d: dt.date) -> dt.date:
    return d.replace(day=1)


def next_month(m: dt.date) -> dt.date:
    return dt.date(m.year + m.month // 12, m.month % 12 + 1, 1)


def random_registers(seed: int, persons: int = 200) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    rows = {k: [] for k in ("persons", "residence", "decisions", "exits", "participation", "applications")}
    for i in range(persons):
        pid = f"P{i:03d}"
        rows["persons"].append((pid, rng.choice([1950, 1970, 1988, 1989, 1990, 1995, 1996]),
                                rng.choice(["AFG", "IRQ"])))
        start = day(rng, dt.date(2011, 1, 1), 500)
        for k in range(rng.randint(1, 3)):
            end = start + dt.timedelta(days=rng.choice([1, 5, 20, 31, 45, 90, 200]))
            if rng.random() < 0.15:
                end = first_of(end) if first_of(end) > start else next_month(start)
            ongoing = k > 0 and rng.random() < 0.2
            rows["residence"].append((pid, rng.choice(["C1", "C2", "C3"]), start, None if ongoing else end))
            if ongoing:
                break
            start = end + dt.timedelta(days=rng.choice([0, 0, 1, 10, 40]))
        last_end = rows["residence"][-1][3]
        for d in {day(rng, dt.date(2010, 6, 1), 1000) for _ in range(rng.randint(1, 3))}:
            rows["decisions"].append((pid, d, "asylum"))
        if rng.random() < 0.5:
            if last_end is not None and rng.random() < 0.5:
                when = last_end
            else:
                when = day(rng, dt.date(2011, 3, 1), 700)
            rows["exits"].append((pid, when, rng.choice(["assisted_return", "forced_return", "unknown_address"])))
        for _ in range(rng.randint(0, 2)):
            s = day(rng, dt.date(2011, 1, 1), 700)
            e = None if rng.random() < 0.2 else s + dt.timedelta(days=rng.choice([0, 10, 30, 60]))
            rows["participation"].append((pid, rng.choice(["VV", "KVL", "KVN"]), s, e))
        for d in {day(rng, dt.date(2011, 1, 1), 700) for _ in range(rng.randint(0, 2))}:
            rows["applications"].append((pid, d, "assisted_return"))
    rows["participation"] = list({(p, m, s): (p, m, s, e) for p, m, s, e in rows["participation"]}.values())
    return {
        "nationalities": pd.DataFrame({"nationality": ["AFG", "IRQ"], "name": ["A", "I"],
                                       "returnability": ["low", "medium"],
                                       "return_agreement_from": [None, dt.date(2012, 3, 15)]}),
        "centres": pd.DataFrame({"centre_id": ["C1", "C2", "C3"], "name": ["a", "b", "c"],
                                 "centre_type": "ordinary", "region": "r", "municipality": "m"}),
        "persons": pd.DataFrame(rows["persons"], columns=["person_id", "birth_year", "nationality"]).assign(
            sex="male", household="single", dublin=False, identity_documented=True, prior_absconding=False),
        "residence": pd.DataFrame(rows["residence"], columns=["person_id", "centre_id", "date_from", "date_to"]),
        "decisions": pd.DataFrame(rows["decisions"], columns=["person_id", "decision_date", "case_type"]),
        "exits": pd.DataFrame(rows["exits"], columns=["person_id", "exit_date", "exit_type"]),
        "participation": pd.DataFrame(rows["participation"], columns=["person_id", "measure", "start_date", "end_date"])
        .assign(sessions_planned=None, sessions_attended=None, completed=None),
        "applications": pd.DataFrame(rows["applications"], columns=["person_id", "application_date", "programme"]),
    }


def reference_panel(t: dict[str, pd.DataFrame]) -> list[tuple]:
    """The panel's rules written out month by month, person by person."""
    def records(name):
        return list(t[name].itertuples(index=False))

    dates = [r.date_from for r in records("residence")] + [r.date_to - dt.timedelta(days=1)
                                                           for r in records("residence") if r.date_to]
    dates += [r.decision_date for r in records("decisions")] + [r.exit_date for r in records("exits")]
    dates += [r.start_date for r in records("participation")] + [r.end_date for r in records("participation") if r.end_date]
    dates += [r.application_date for r in records("applications")]
    last = first_of(max(dates))
    agreement = {r.nationality: r.return_agreement_from for r in records("nationalities")}
    out = []
    for person in records("persons"):
        pid = person.person_id
        spells = [r for r in records("residence") if r.person_id == pid]
        decisions = [r.decision_date for r in records("decisions") if r.person_id == pid]
        exit_ = next((r for r in records("exits") if r.person_id == pid), None)
        parts = [r for r in records("participation") if r.person_id == pid]
        apps = [r.application_date for r in records("applications") if r.person_id == pid]
        first = min(s.date_from for s in spells)
        month = first_of(first)
        while month <= last:
            end = next_month(month) - dt.timedelta(days=1)
            row = _reference_row(person, month, end, spells, decisions, exit_, parts, apps, first, agreement)
            if row is not None:
                out.append(row)
            month = next_month(month)
    return sorted(out)


def _reference_row(person, month, end, spells, decisions, exit_, parts, apps, first, agreement):
    exit_date = exit_.exit_date if exit_ else None
    here = [s for s in spells if s.date_from <= end and (
        s.date_to is None or s.date_to > month or (s.date_to == exit_date and s.date_to >= month))]
    earlier = [d for d in decisions if d <= end]
    if not here or not earlier or (exit_date is not None and exit_date < month):
        return None
    decision = max(earlier)
    centre = min(here, key=lambda s: s.date_from).centre_id
    active = sorted((p.start_date, p.measure) for p in parts
                    if p.start_date <= end and (p.end_date is None or p.end_date >= month))
    age = month.year - person.birth_year
    band = next(name for limit, name in BANDS if age < limit)
    agreed = agreement[person.nationality]
    return (person.person_id, month, centre, agreed is not None and agreed <= end, age, band,
            (month.year - decision.year) * 12 + month.month - decision.month,
            (month.year - first.year) * 12 + month.month - first.month,
            active[0][1] if active else None, bool(active), any(month <= s <= end for s, _ in active),
            exit_.exit_type if exit_date is not None and month <= exit_date <= end else None,
            any(month <= a <= end for a in apps))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_panel_equals_the_reference(tmp_path, seed):
    frames = random_registers(seed)
    db = tmp_path / "p.duckdb"
    load_tables(db, frames, source=f"random {seed}", today=TODAY)
    con = duckdb.connect(str(db), read_only=True)
    got = con.execute(f"SELECT {', '.join(COLUMNS)} FROM person_month ORDER BY person_id, month").fetchall()
    con.close()
    expected = reference_panel(frames)
    assert len(expected) > 300
    assert got == expected
