"""An attacker who reads every published value of the shipped models tries to recover small counts.

The registers are synthetic (a known truth: the stored numerators and denominators). The
attacks are those of the audit and the obvious next ones:

* rate x count: a rate per 100 participants times the published participants gives the
  numerator (the audit recovered 493 counts of 1 to 4 this way);
* the complement of a share or rate (participants minus those who applied);
* differences of margins (a total minus its published groups);
* the difference between two releases of a revised month.

Each must recover no count in 1..min_count-1. To show that the attacks are real, each is
also run on the values as computed (before disclosure control), where it succeeds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two releases of the three models on a synthetic store

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted(str(p) for p in (ROOT / "models").glob("*.yaml") if p.name != "indicators.yaml")
AS_OF = dt.date(2014, 1, 15)
THRESHOLD = 5


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """Two releases of the three shipped models: before and after a revision of 2013-11."""
    import monitoring
    from monitoring.runs import run_models
    from tiltak.loading import load_models
    from tiltak.synth import SynthConfig, generate

    db = tmp_path_factory.mktemp("attack") / "registers.duckdb"
    registers = generate(SynthConfig(seed=3, scale=0.4, months=24))
    tables = dict(registers.tables)
    monitoring.load_tables(db, tables, source="synthetic", today=AS_OF)
    models = [m.monitored for m in load_models(MODELS)]
    first = run_models(db, models, as_of=AS_OF)
    tables["applications"] = _revised(tables, db)
    monitoring.load_tables(db, tables, source="synthetic, revised", today=AS_OF)
    second = run_models(db, models, as_of=AS_OF)
    return db, models, first.run_id, second.run_id


def _revised(tables, db):
    """Late-reported applications: two more in 2013-11, by Veien Videre participants of one centre."""
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(db), read_only=True)
    centre, = con.execute("SELECT centre_id FROM person_month WHERE period = '2013-11' AND measure = 'VV' AND NOT applied "
                          "GROUP BY centre_id HAVING count(*) >= 2 ORDER BY count(*) DESC, centre_id LIMIT 1").fetchone()
    extra = [r[0] for r in con.execute("SELECT person_id FROM person_month WHERE period = '2013-11' AND measure = 'VV' "
                                       "AND NOT applied AND centre_id = ? ORDER BY person_id LIMIT 2", [centre]).fetchall()]
    con.close()
    apps = tables["applications"]
    more = pd.DataFrame({"person_id": extra, "application_date": [dt.date(2013, 11, 20)] * len(extra),
                         "programme": ["assisted_return"] * len(extra)})
    return pd.concat([apps, more.astype(apps.dtypes.to_dict())], ignore_index=True)


def _cells(db, release_id: int, specs, published_only: bool = True):
    """(model, indicator) -> coordinates -> (value, true numerator, true denominator) of one release:
    the published value, or (``published_only=False``) the value as computed."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    out: dict = defaultdict(dict)
    for m, i, p, d, g, value, num, den in con.execute(
            "SELECT model_id, indicator_id, period_index, dimension, group_value, value, numerator, denominator "
            "FROM monitoring_releases WHERE release_id = ?", [release_id]).fetchall():
        spec = specs[(m, i)]
        computed = None if num is None else spec.scale * num / den if spec.divides and den else \
            None if spec.divides else spec.scale * num
        out[(m, i)][(p, d, g)] = (value if published_only else computed, num, den)
    con.close()
    return out


def _specs(models):
    return {(m.id, s.id): s for m in models for s in m.specs}


def _small(x: float) -> bool:
    return 1 <= x < THRESHOLD


def _recover(rate: float, count: float, spec) -> int | None:
    """The numerator a rate and a count give, when the rounding leaves only one candidate."""
    estimate = rate * count / spec.scale
    tolerance = 0.5 * 10 ** (-spec.decimals) * count / spec.scale
    lo, hi = math.ceil(estimate - tolerance - 1e-9), math.floor(estimate + tolerance + 1e-9)
    return lo if lo == hi else None


def _same_population(rate_key, count_key, specs) -> bool:
    """What the attacker reads from the catalogue: the count counts the rate's denominator.

    Same source, grain and measure scope, and the same filter; in a model's own measure
    every panel row is a participant, so 'participating' adds nothing there. The models
    may differ when neither is restricted to a measure."""
    rate, count = specs[rate_key], specs[count_key]
    den, num = rate.denominator, count.numerator
    if den is None or den.kind not in ("count", "count_distinct") or num.kind not in ("count", "count_distinct"):
        return False
    if rate.measure_scoped != count.measure_scoped or den.source != num.source:
        return False
    if rate.measure_scoped and rate_key[0] != count_key[0]:
        return False
    implied = rate.measure_scoped and num.source == "person_month" and {den.filter, num.filter} <= {None, "participating"}
    return den.filter == num.filter or implied


def rate_times_count(cells, specs):
    """Recovered (numerator, complement) counts from every rate with every published count."""
    rates = [k for k, s in specs.items() if s.disclosure_kind == "rate" and k in cells]
    counts = [k for k, s in specs.items() if s.disclosure_kind == "count" and k in cells]
    leaks = []
    for rk in rates:
        rspec = specs[rk]
        for ck in counts:
            if specs[ck].grain != rspec.grain or not _same_population(rk, ck, specs):
                continue
            for coordinates, (rate, num, den) in cells[rk].items():
                count = cells[ck].get(coordinates, (None,))[0]
                if rate is None or count is None or num is None or count != den:
                    continue
                n = _recover(round(rate, rspec.decimals), count, rspec)
                if n is not None and n == num and _small(n):
                    leaks.append(("numerator", rk, ck, coordinates, n))
                if n is not None and n == num and _small(count - n):
                    leaks.append(("complement", rk, ck, coordinates, count - n))
    return leaks


def margin_differences(cells, specs):
    leaks = []
    for key, spec in specs.items():
        if spec.disclosure_kind != "count" or key not in cells:
            continue
        by_dim = defaultdict(list)
        for (p, d, g), entry in cells[key].items():
            if d != "total":
                by_dim[(p, d)].append(entry)
        for (p, d), entries in by_dim.items():
            total = cells[key].get((p, "total", ""), (None,))[0]
            hidden = [e for e in entries if e[0] is None]
            if total is None or len(hidden) != 1:
                continue
            recovered = total - sum(e[0] for e in entries if e[0] is not None)
            if recovered == hidden[0][1] and _small(recovered):
                leaks.append(("margin", key, p, d, recovered))
    return leaks


def _implied_numerators(cells, specs):
    """Every numerator the attacker can read: published counts, and rates times their counts."""
    out = {}
    for key, spec in specs.items():
        if key in cells and spec.disclosure_kind == "count":
            out.update({(key, c): e[0] for c, e in cells[key].items() if e[0] is not None})
    for rk, rspec in specs.items():
        if rk not in cells or rspec.disclosure_kind != "rate":
            continue
        for ck in specs:
            if ck not in cells or specs[ck].disclosure_kind != "count" or not _same_population(rk, ck, specs):
                continue
            for c, (rate, _num, _den) in cells[rk].items():
                count = cells[ck].get(c, (None,))[0]
                if rate is not None and count is not None:
                    n = _recover(round(rate, rspec.decimals), count, rspec)
                    if n is not None:
                        out[(rk, c)] = n
    return out


def release_differences(before, after, specs):
    """Changes between two releases that the attacker reads off, and that are true and small."""
    first, second = _implied_numerators(before, specs), _implied_numerators(after, specs)
    leaks = []
    for (key, c), v1 in first.items():
        v2 = second.get((key, c))
        if v2 is None or not _small(abs(v2 - v1)):
            continue
        true = after[key][c][1] - before[key][c][1]
        if v2 - v1 == true:
            leaks.append(("revision", key, c, true))
    return leaks


def test_the_attacks_recover_small_counts_from_unprotected_values(released):
    db, models, first, _second = released
    specs = _specs(models)
    raw = _cells(db, first, specs, published_only=False)
    assert len(rate_times_count(raw, specs)) > 50  # the audit's attack works on what was computed
    assert margin_differences(raw, specs) == []  # (nothing hidden: nothing to recover this way)


def test_no_small_count_is_recovered_from_what_is_published(released):
    db, models, first, second = released
    specs = _specs(models)
    for release in (first, second):
        cells = _cells(db, release, specs)
        assert rate_times_count(cells, specs) == []
        assert margin_differences(cells, specs) == []
        for key, table in cells.items():
            if specs[key].disclosure_kind == "count":
                assert not [c for c, e in table.items() if e[0] is not None and _small(e[0])], key


def test_two_releases_of_a_revised_month_reveal_no_small_change(released):
    db, models, first, second = released
    specs = _specs(models)
    before, after = _cells(db, first, specs), _cells(db, second, specs)
    revised = [k for k in after if any(after[k][c][1] != before.get(k, {}).get(c, (None, None))[1]
                                       for c in after[k] if c in before.get(k, {}))]
    assert revised  # the revision changed stored values
    assert release_differences(before, after, specs) == []
    unprotected = release_differences(_cells(db, first, specs, False), _cells(db, second, specs, False), specs)
    assert unprotected  # the attack works when nothing is protected


def test_show_and_every_export_use_the_released_values(released, tmp_path):
    import json
    import subprocess
    import sys

    db, models, _first, second = released
    model = next(m for m in models if m.id == "veien-videre")
    out = subprocess.run([sys.executable, "-m", "tiltak", "monitor", "show", model.path, "--db", str(db),
                          "--by", "centre", "--format", "json"], capture_output=True, text=True, check=True).stdout
    shown = {(r["indicator"], r["period"], r["dimension"], r["group"]): (r["value"], r["suppressed"]) for r in json.loads(out)}
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT indicator_id, period, dimension, group_value, value, suppressed FROM monitoring_releases "
                         "WHERE release_id = ? AND model_id = 'veien-videre' AND dimension IN ('total', 'centre')",
                         [second]).fetchall()
    con.close()
    for indicator, period, dim, group, value, suppressed in stored:
        got = shown[(indicator, period, dim, group)]
        assert got[1] == suppressed
        assert got[0] == value  # json carries the released value at full precision
