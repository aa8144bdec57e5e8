"""tests/golden/make_all.sh runs every R script that writes golden files (none is forgotten)."""

from __future__ import annotations

import re
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def test_make_all_runs_every_r_script_from_its_place():
    text = (GOLDEN / "make_all.sh").read_text(encoding="utf-8")
    runs = set(re.findall(r"^(?:if needs .*?; then )?run (\w+) (root|folder) (\S+\.R)", text, re.M))
    scripts = {(p.parent.name, p.name) for p in GOLDEN.glob("*/*.R")}
    assert {(name, script) for name, _, script in runs} == scripts
    for name, where, script in runs:
        header = (GOLDEN / name / script).read_text(encoding="utf-8")[:1500]
        said = "root" if "from the repository root" in header else "folder"
        assert where == said, f"{name}/{script} says it runs from its {said}"
