"""Known truth end to end: synthetic registers with set effects, the design, the verdicts.

The shipped Veien Videre model is evaluated on registers whose true effects are known
(``tiltak.synth``): the default (no effect on return, HSCL-10 -0.15 for VV), a strong true
effect on assisted return (odds ratio 3), and strong hidden bias (an unobserved
motivation drives both participation and return, no true effect).

With about 300-400 participants, the shipped 1:1 design leaves chance imbalance above
0.1 in some factor level (a rare nationality) in most samples. The return tests therefore
use the shipped design, 3:1 and exact on nationality (set explicitly below, so the tests
do not depend on later edits of the model), with the default rules (|SMD| <= 0.1). The HSCL-10 outcome is observed only for participants and a
small control sample, so it is matched 3:1 without exact matching and judged with a
balance threshold of 0.2. The verdict logic itself is tested at every boundary in
``test_verdicts.py``.
"""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from tiltak import pipeline
from tiltak.evaluation.estimate import estimate_model
from tiltak.evaluation.verdicts import VerdictKind, VerdictRules, judge

RULES = VerdictRules()
SURVEY_RULES = VerdictRules(balance_threshold=0.2)
RECOMMENDED = {"ratio": 3, "exact": ["nationality"]}


def evaluate_vv(tmp_path, tests, matching=RECOMMENDED, rules=RULES, **synth):
    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 11, **synth)
    item = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])[0]
    design = dataclasses.replace(item.view.design, tests=tests, matching={**item.view.design.matching, **matching})
    view = dataclasses.replace(item.view, design=design)
    con = duckdb.connect(str(db), read_only=True)
    try:
        estimates = {e.change_id: e for e in estimate_model(con, view, item.outcomes, 11, rules)}
        truth = dict(con.execute("SELECT outcome, true_att FROM truth_effects WHERE measure = 'VV'").fetchall())
    finally:
        con.close()
    verdicts = {k: judge(view.change(k).spec, e.evidence, rules) for k, e in estimates.items()}
    return estimates, verdicts, truth


@pytest.mark.slow
def test_default_no_return_effect_is_not_confirmed(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up",))
    assert verdicts["return_up"].kind in (VerdictKind.NOT_CONFIRMED, VerdictKind.INCONCLUSIVE), verdicts["return_up"]
    ret = estimates["return_up"].evidence
    assert ret.ci_low <= truth["assisted_return_12m"] <= ret.ci_high


@pytest.mark.slow
def test_default_hscl_improvement_is_found(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("hscl_down",), {"ratio": 3, "exact": []}, SURVEY_RULES)
    hscl = estimates["hscl_down"].evidence
    assert hscl.ci_high < 0  # found: the interval lies below zero
    assert abs(hscl.att - truth["hscl10_change_6m"]) < 0.1
    assert verdicts["hscl_down"].kind is VerdictKind.CONFIRMED, verdicts["hscl_down"].reasons


@pytest.mark.slow
def test_strong_true_return_effect_is_confirmed_and_robust(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up",), effect_return={"VV": 3.0})
    assert truth["assisted_return_12m"] > 0.1
    assert verdicts["return_up"].kind is VerdictKind.CONFIRMED, verdicts["return_up"].reasons
    ev = estimates["return_up"].evidence
    # Risk-set matching estimates enrolling now against not yet: comparison persons who
    # enrol later also get the effect, so the estimate lies between 0 and the truth.
    assert 0 < ev.ci_low and ev.att < truth["assisted_return_12m"] + 0.05
    # The 3:1 sets are judged by Rosenbaum's M-statistic (issue 9): Gamma is about 1.8 on
    # this seed. The signed-rank test on treated-minus-mean-of-controls differences used
    # before is not valid for k:1 sets and overstated it (>= 2).
    assert ev.gamma is not None and ev.gamma >= 1.5
    assert verdicts["return_up"].sensitivity


@pytest.mark.slow
def test_strong_hidden_bias_shows_as_a_fragile_result(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up",), hidden_bias=1.5, scale=0.7)
    assert truth["assisted_return_12m"] == pytest.approx(0.0, abs=1e-9)
    ev = estimates["return_up"].evidence
    assert ev.att > 0  # the hidden motivation makes participants look more likely to return
    assert ev.ci_low > 0  # a spurious significant effect ...
    assert ev.gamma is not None and ev.gamma < RULES.min_gamma_robust  # ... that hidden bias could explain
    if verdicts["return_up"].kind is not VerdictKind.NOT_TESTABLE:
        assert "fragile" in [r.code for r in verdicts["return_up"].sensitivity]
