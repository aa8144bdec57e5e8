"""The whole chain on synthetic registers: demo, determinism, disclosure, the browser.

One demo at half the default size runs once per module (about half a minute on two
cores); the tests read its outputs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tiltak import pipeline
from tiltak_base import catalogue

pytestmark = pytest.mark.slow  # the whole demo chain, twice

SEED = 3
SCALE = 0.4
COUNT_KEYS = {"participants", "n_treated", "n_control", "n_treated_matched", "n_control_matched",
              "matched_participants"}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    pipeline.demo(out, seed=SEED, synth_options={"scale": SCALE})
    return out


@pytest.fixture(scope="module")
def document(demo_dir) -> dict:
    return json.loads((demo_dir / "evaluation.json").read_text(encoding="utf-8"))


def output_files(directory: Path) -> list[Path]:
    return [p for p in sorted(directory.rglob("*")) if p.is_file() and not p.name.startswith("registers.duckdb")]


def test_demo_writes_the_report_and_the_document(demo_dir, document):
    assert (demo_dir / "report.html").stat().st_size > 50_000
    assert document["schema"] == "tiltak-evaluation/4"
    assert [m["id"] for m in document["models"]] == ["kvalifisering-lokal", "kvalifisering-nasjonal", "veien-videre"]
    kinds = {"confirmed", "not_confirmed", "inconclusive", "contradicted", "not_testable"}
    for model in document["models"]:
        assert model["verdicts"], model["id"]
        assert {v["verdict"] for v in model["verdicts"]} <= kinds
        assert all(v["reasons"] and v["reasons"][0]["code"] for v in model["verdicts"])
        assert model["contribution"]["story"] and all(s["msg"].startswith("story.") for s in model["contribution"]["story"])
        assert model["indicators"] and model["costs"]["overall"]["measure"] == model["measure"]


def test_every_verdict_and_estimate_names_its_estimand(document):
    assert document["settings"]["multiplicity"]["method"] == "holm"
    for model in document["models"]:
        assert model["estimand"]["code"] == "enrol_vs_not"
        for verdict in model["verdicts"]:
            assert verdict["estimand"]["code"] in ("enrol_vs_not", "enrol_now_vs_later")
            if verdict["estimate"]:
                assert verdict["estimate"]["interval"] == "unadjusted 95 %"
                assert verdict["estimate"]["n_tests"] == len(model["estimates"])  # the model's tested changes
                p, holm = verdict["estimate"]["p_value"], verdict["estimate"]["p_value_holm"]
                assert holm >= p - 1e-12
        for estimate in model["estimates"]:
            assert set(estimate["estimand"]) == {"code"}  # described by the catalogues, at report time
            for lang in catalogue.languages():
                assert catalogue.text(f"estimands.{estimate['estimand']['code']}", lang)


def test_the_return_curve_is_published_only_where_the_rule_allows(document, demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    curves = [m["return_curve"] for m in document["models"] if m["return_curve"]]
    assert curves, "the shipped models test assisted return: each has a curve"
    for curve in curves:
        assert curve["months"][0] == 0 and curve["participants"][0] == 0.0
        assert curve["min_count"] == 5
        assert all(p["value"] > 0 for p in curve["expected"])
    assert "Frivillig (assistert) retur etter oppstart" in html  # the demo's report is in bokmål by default


def test_the_demos_last_months_are_provisional_in_the_document_and_the_report(demo_dir, document):
    """Sessions are reported late (participation: a 2-month lag): the demo's last two months of
    attendance are marked, drawn hollow and dashed, and say so under the chart (nb)."""
    assert document["data"]["last_period"] == "2014-12"
    for model in document["models"]:
        for ind in model["indicators"]:
            marked = [p["period"] for p in ind["points"] if p["provisional"]]
            if ind["id"].startswith("sessions_attended"):
                assert marked == ["2014-11", "2014-12"], (model["id"], ind["id"], marked)
                assert ind["n_provisional"] == 2
            elif ind["id"] in ("participants", "residents_obliged_to_leave"):
                assert marked == [], (model["id"], ind["id"])  # the panel declares no lag
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "Hule punkter på stiplet linje er foreløpige: de siste 2 periodene" in html


def test_two_runs_with_the_same_seed_are_byte_identical(demo_dir, tmp_path):
    again = tmp_path / "again"
    pipeline.demo(again, seed=SEED, synth_options={"scale": SCALE})
    for name in ("report.html", "evaluation.json"):
        assert (again / name).read_bytes() == (demo_dir / name).read_bytes(), name


def test_no_person_identifier_in_any_output_file(demo_dir):
    con = duckdb.connect(str(demo_dir / "registers.duckdb"), read_only=True)
    ids = {r[0] for r in con.execute("SELECT person_id FROM persons").fetchall()}
    con.close()
    assert len(ids) > 1000
    pattern = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))
    for path in output_files(demo_dir):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = pattern.search(text)
        assert found is None, f"{path.name} contains the person id {found.group(0)!r}"


def _walk(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))
    else:
        yield path, value


def test_no_unsuppressed_small_count_in_the_document(document):
    threshold = document["disclosure"]["min_count"]
    checked = 0
    for path, value in _walk(document):
        if path and path[-1] in COUNT_KEYS and value is not None:
            checked += 1
            assert value == 0 or value >= threshold, f"{'.'.join(map(str, path))} = {value}"
    assert checked > 20
    for model in document["models"]:
        for ind in model["indicators"]:
            if ind["unit"] in ("persons", "applications"):
                small = [p for p in ind["points"] if p["value"] is not None and 0 < p["value"] < threshold]
                assert not small, (model["id"], ind["id"], small[:3])


def test_report_is_self_contained_and_accessible(demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "<script" not in html.lower()
    assert html.count("<svg") >= 10
    ids = re.findall(r"\sid=\"([^\"]+)\"", html)
    assert len(ids) == len(set(ids))  # unique in the page
    assert re.search(r'<html lang="(en|nb)">', html)
    assert '<th scope="col"' in html and '<th scope="row"' in html
    assert "@media print" in html and "@media (max-width" in html
    svgs = re.findall(r"<svg[^>]*>", html)
    labelled = [s for s in svgs if "aria-label" in s or "role=\"img\"" in s]
    assert len(labelled) >= len(svgs) - 3  # the logic-model diagrams carry their own title


def test_report_in_bokmal(demo_dir, tmp_path):
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])
    html, data = pipeline.evaluate(demo_dir / "registers.duckdb", inputs, tmp_path, lang="nb", seed=SEED)
    text = html.read_text(encoding="utf-8")
    assert '<html lang="nb">' in text and "Oppsummering av konklusjoner" in text and "Metodevedlegg" in text


NOT_TEXTS = ("meta.", "format.", "report.language_names.", "report.decimal_mark")


def _catalogue_texts(lang: str) -> dict[str, str]:
    """Every text of the catalogue of ``lang``, keyed by its dotted key."""
    return {k: v for k, v in catalogue.flat_keys(catalogue.catalogue(lang)).items()
            if isinstance(v, str) and v and not k.startswith(NOT_TEXTS)}


def _visible_text(html: str) -> str:
    """The page's text and the texts of its attributes, without the CSS and the data URIs."""
    import html as html_lib

    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r'href="data:[^"]*"', " ", html)
    attributes = " ".join(re.findall(r'(?:aria-label|data-label|title|alt)="([^"]*)"', html))
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html) + " " + attributes)


def english_in(text: str, lang: str, other: str = "en") -> list[str]:
    """Fragments of ``other``'s catalogue texts (that differ from ``lang``'s) found in ``text``."""
    english, own = _catalogue_texts(other), _catalogue_texts(lang)
    own_words = {w for text in own.values() for w in re.findall(r"[\w-]+", text)}
    found = []
    for key, en in english.items():
        if own.get(key) == en:
            continue  # the same word in both languages ("Matching", "E-verdi" is not, "Region" is)
        for fragment in re.split(r"\{[^}]*\}", en):
            fragment = fragment.strip(" .,:;()")
            if " " not in fragment and fragment in own_words:
                continue  # a word of the language itself (bokmål "matches": is matched)
            if fragment in own.get(key, ""):
                continue  # words the two languages share in this text ("× den oppgitte kostnaden")
            if (len(fragment) >= 5 if " " in fragment else len(fragment) >= 4) and re.search(r"(?<![\w-])" + re.escape(fragment) + r"(?![\w-])", text):
                found.append(f"{key}: {fragment!r}")
    return found


def _without_codes(text: str) -> str:
    """The text without the catalogue's indicator ids (codes the report names beside titles)."""
    import yaml

    catalogue = yaml.safe_load((pipeline.shipped_models_dir() / "indicators.yaml").read_text(encoding="utf-8"))
    ids = sorted((i["id"] for i in catalogue["indicators"]), key=len, reverse=True)
    return re.sub(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])", " ", text)


def test_the_bokmal_report_has_no_english_label(demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in html  # nb is the default language of the demo
    assert english_in(_without_codes(_visible_text(html)), "nb") == []


def _model_texts(document: dict) -> list[str]:
    texts = []
    for path, value in _walk(document):
        if isinstance(value, str) and len(path) >= 2 and path[-1] in ("nb", "nn", "en"):
            texts.append(value)
    return sorted(set(texts), key=len, reverse=True)


def _without_model_texts(text: str, document: dict) -> str:
    """The text without the models' own titles (model data, not catalogue texts)."""
    for title in _model_texts(document):
        text = text.replace(title, " ")
    return text


@pytest.fixture(scope="module")
def models() -> dict:
    return {i.model.id: i.model for i in pipeline.load_inputs([pipeline.shipped_models_dir()])}


def test_the_nynorsk_report_has_no_english_and_no_bokmal_text(document, models):
    from tiltak.report.build import build_report

    html = build_report(document, {"models": models}, "nn")
    assert '<html lang="nn">' in html and "Oppsummering av konklusjonar" in html and "Bidragsforteljing" in html
    text = _without_codes(_visible_text(html))
    assert english_in(text, "nn") == []
    assert english_in(text, "nn", other="nb") == []
    assert "Vist på bokmål" not in html  # the shipped models have nynorsk titles


def test_a_model_text_missing_in_nynorsk_is_shown_in_bokmal_with_one_note(document, models):
    from tiltak.report.build import build_report

    changed = json.loads(json.dumps(document))
    model = changed["models"][-1]
    model["title"].pop("nn")
    html = build_report(changed, {"models": models}, "nn")
    shown = model["title"]["nb"]
    assert html.count("Vist på bokmål der den logiske modellen ikkje har tekst på nynorsk") == 1
    assert f"nynorsk: «{shown}»." in html
    assert "Vist på" not in build_report(changed, {"models": models}, "nb")


def _dummy_language(directory: Path) -> None:
    """A fourth language: the English catalogue with every text prefixed ``[xx] ``."""
    import yaml

    def prefixed(value, key=""):
        if isinstance(value, dict):
            return {k: (v if key == "" and k == "meta" else prefixed(v, k)) for k, v in value.items()}
        return f"[xx] {value}" if isinstance(value, str) and value else value

    english = yaml.safe_load((catalogue.SHIPPED / "en.yaml").read_text(encoding="utf-8"))
    (directory / "xx.yaml").write_text(yaml.safe_dump(prefixed(english), allow_unicode=True), encoding="utf-8")


def test_the_document_holds_no_text_of_any_catalogue(document):
    """evaluation.json is language-neutral: codes, numbers, messages and the models' own texts."""
    strings = [(path, value) for path, value in _walk(document)
               if isinstance(value, str) and path[-1] not in ("nb", "nn", "en", "detail", "unit")]
    assert len(strings) > 100
    fragments = {f.strip(" .,:;()") for lang in ("nb", "nn", "en") for text in _catalogue_texts(lang).values()
                 for f in re.split(r"\{[^}]*\}", text)}
    fragments = {f for f in fragments if len(f.split()) >= 3}
    found = [(".".join(map(str, path)), value) for path, value in strings if any(f in value for f in fragments)]
    assert found == []


def test_a_fourth_language_is_its_catalogue_only(demo_dir, document, models, tmp_path, monkeypatch, tiltak_main):
    """Registering ``xx`` is one file on the search path: the commands accept ``--lang xx`` and
    every text of the report comes from it (none of nb's, nn's or en's)."""
    from tiltak.report.build import build_report

    _dummy_language(tmp_path)
    monkeypatch.setenv(catalogue.ENVIRONMENT, str(tmp_path))
    assert catalogue.languages() == ("nb", "en", "nn", "xx")
    code, out, _ = tiltak_main("evaluate", "--help")
    assert code == 0 and "nb|en|nn|xx" in out
    code, out, err = tiltak_main("graph", str(pipeline.shipped_models_dir() / "veien-videre.yaml"), "--lang", "xx")
    assert code == 0 and "[xx] Inputs" in out, err
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])
    report, data = pipeline.evaluate(demo_dir / "registers.duckdb", inputs, tmp_path / "xx", lang="xx", seed=SEED)
    _, nynorsk = pipeline.evaluate(demo_dir / "registers.duckdb", inputs, tmp_path / "nn", lang="nn", seed=SEED)
    assert data.read_bytes() == nynorsk.read_bytes()  # evaluation.json is the same in every language
    for html in (report.read_text(encoding="utf-8"), build_report(document, {"models": models}, "xx")):
        assert '<html lang="xx">' in html and html.count("[xx] ") > 200
        text = _without_codes(_without_model_texts(_visible_text(html), document))
        for other in ("nb", "nn", "en"):
            assert english_in(text, "xx", other=other) == [], other
    code, _, err = tiltak_main("graph", str(pipeline.shipped_models_dir() / "veien-videre.yaml"), "--lang", "yy")
    assert code == 2 and "'yy' is not one of 'nb', 'en', 'nn', 'xx'" in err


def test_the_english_check_finds_english():
    from tiltak.report.labels import LABELS

    page = f"<p>{LABELS['en']['summary_intro']}</p><p>{LABELS['en']['design_line']}</p>"
    assert len(english_in(_visible_text(page), "nb")) >= 2


# ---- the report in a real browser --------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0"]


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    """Console messages and page errors that Chromium logs (a page without scripts has none)."""
    return [line for line in stderr.splitlines() if ":CONSOLE(" in line or "Uncaught" in line]


def non_white_share(png: Path) -> float:
    from PIL import Image

    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / (image.width * image.height)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(demo_dir, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the browser test needs it")
    url = (demo_dir / "report.html").resolve().as_uri()
    shot = tmp_path / "first-screen.png"
    run = chromium(url, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.is_file(), run.stderr[-2000:]
    assert non_white_share(shot) > 0.02
    assert console_errors(run.stderr) == []
    dom = chromium(url, tmp_path / "profile2", "--dump-dom")
    assert "<h1>" in dom.stdout and "report_title" not in dom.stdout
    assert console_errors(dom.stderr) == []


@pytest.mark.browser
def test_console_error_detection_can_fail(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium); the browser test needs it")
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); undefinedCall();</script></body></html>")
    run = chromium(page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert console_errors(run.stderr), run.stderr[-2000:]


# ---- the commands ------------------------------------------------------------------------

def tiltak(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=cwd,
                          env={**__import__("os").environ, "PYTHONPATH": str(Path(pipeline.__file__).parents[1])})


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["evaluate", "MODELS", "--db", "missing.duckdb", "--out", "o"], "missing.duckdb: no such store"),
        (["estimate", "MODELS", "--db", "missing.duckdb"], "missing.duckdb: no such store"),
        (["estimate", "no-such-model.yaml", "--db", "missing.duckdb"], "no-such-model.yaml: no such file or directory"),
        (["evaluate", "MODELS", "--db", "DB", "--out", "FILE"], "is a file"),
        (["evaluate", "MODELS", "--db", "DB", "--out", "o", "--lang", "de"], "'de' is not one of 'nb', 'en'"),
        (["evaluate", "EMPTY", "--db", "DB", "--out", "o"], "the folder holds no logic models"),
    ],
)
def test_command_input_errors_are_one_message_and_exit_2(demo_dir, tmp_path, args, fragment):
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "EMPTY").mkdir()
    subst = {"MODELS": str(pipeline.shipped_models_dir()), "DB": str(demo_dir / "registers.duckdb")}
    result = tiltak(*[subst.get(a, a) for a in args], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "report.html").exists()


def test_estimate_command_writes_json_and_the_store_table(demo_dir, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_dir / "registers.duckdb", db)
    out = tmp_path / "estimates.json"
    result = tiltak("estimate", str(pipeline.shipped_models_dir() / "veien-videre.yaml"), "--db", str(db),
                    "--out", str(out), "--seed", str(SEED))
    assert result.returncode == 0, result.stderr
    assert "veien-videre return_up assisted_return_12m [enrol_vs_not]: ATT " in result.stdout
    assert "unadjusted 95 % CI" in result.stdout and "Holm-adjusted p" in result.stdout
    data = json.loads(out.read_text())
    assert data["schema"] == "tiltak-estimates/2" and data["models"][0]["id"] == "veien-videre"
    assert data["models"][0]["estimates"][0]["estimand"]["code"] == "enrol_vs_not"
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT model_id, change_id FROM estimates ORDER BY 1, 2").fetchall()
    assert ("veien-videre", "return_up") in rows
    versions = dict(con.execute("SELECT component, max(version) FROM schema_version GROUP BY 1").fetchall())
    assert versions["estimates"] == 1
    assert {r[0] for r in rows} == {"kvalifisering-lokal", "kvalifisering-nasjonal", "veien-videre"}  # others kept


def test_demo_from_another_folder_prints_the_report_path(tmp_path):
    result = tiltak("demo", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "Example" in result.stdout


def test_a_measure_nobody_took_part_in_is_reported_as_not_testable(demo_dir, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shipped = pipeline.shipped_models_dir()
    shutil.copy(shipped / "indicators.yaml", models / "indicators.yaml")
    text = (shipped / "veien-videre.yaml").read_text(encoding="utf-8")
    text = text.replace("id: veien-videre", "id: nobody").replace("measure: VV", "measure: NOBODY")
    (models / "nobody.yaml").write_text(text, encoding="utf-8")
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_dir / "registers.duckdb", db)
    inputs = pipeline.load_inputs([models / "nobody.yaml"])
    html, data = pipeline.evaluate(db, inputs, tmp_path / "out", lang="en", seed=SEED)
    document = json.loads(data.read_text(encoding="utf-8"))
    model = document["models"][0]
    assert {v["verdict"] for v in model["verdicts"]} == {"not_testable"}
    assert model["delivery"]["participants"] == 0
    assert model["costs"]["overall"]["suppressed"] == "no_participants"
    assert all(e["error"] for e in model["estimates"])
    assert "Not estimated: too few participants" in html.read_text(encoding="utf-8")


def test_an_expected_change_with_a_subgroup_is_estimated_within_it(demo_dir):
    from tiltak.evaluation.estimate import estimate_model

    item = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])[0]
    changes = tuple(c.model_copy(update={"subgroup": "sex = 'male'"}) if c.id == "return_up" else c
                    for c in item.model.expected_changes)
    model = item.model.model_copy(update={"expected_changes": changes})
    con = duckdb.connect(str(demo_dir / "registers.duckdb"), read_only=True)
    try:
        estimates = {e.change_id: e.evidence for e in estimate_model(con, model, item.outcomes, SEED)}
        men = con.execute("SELECT count(*) FROM persons WHERE sex = 'male'").fetchone()[0]
    finally:
        con.close()
    assert men > 0
    assert 0 < estimates["return_up"].n_treated < estimates["absconding_down"].n_treated
