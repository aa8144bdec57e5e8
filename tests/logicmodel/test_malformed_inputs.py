"""A table of malformed inputs: each gets one clear message, the right exit code and no
traceback when run through ``tiltak validate``."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
VALID = (FIXTURES / "valid.yaml").read_text(encoding="utf-8")


def replaced(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# name, file content (str or bytes), expected fragment of the output, exit code
CASES: list[tuple[str, str | bytes, str, int]] = [
    ("syntax error", "id: [mini\nversion: 1\n", "invalid YAML", 1),
    ("bad indentation", "id: mini\n  version: 1\n", "invalid YAML", 1),
    ("tab indentation", replaced("    level: activity", "\tlevel: activity"), "tab character in indentation", 1),
    ("duplicate key", replaced("measure: VV\n", "measure: VV\nmeasure: VV\n"), "duplicate key 'measure'", 1),
    ("duplicate nested key", replaced("    lag_months: 3\n", "    lag_months: 3\n    lag_months: 4\n"), "duplicate key 'lag_months'", 1),
    ("empty file", "", "empty file", 1),
    ("only comments", "# nothing here\n\n", "empty file", 1),
    ("root is a list", "- id: mini\n", "the document is a list", 1),
    ("root is a scalar", "just text\n", "the document is a single value", 1),
    ("latin-1 bytes", "id: mini\ntitle: Bjørn\n".encode("latin-1"), "not UTF-8: invalid byte 0xf8", 1),
    ("utf-16 text", "id: mini\n".encode("utf-16"), "binary data", 1),
    ("binary garbage", bytes(range(256)) * 4, "binary data", 1),
    ("control character", "id: mini\x07\n", "control character U+0007", 1),
    ("billion laughs", laughs(), "alias bomb", 1),
    ("absurd nesting", "id: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than 64 levels", 1),
    ("recursive alias", "id: &a [*a]\n", "recursive alias", 1),
    ("undefined alias", "id: *nowhere\n", "refers to no anchor", 1),
    ("python tag", "id: !!python/object:os.system ls\n", "is not supported", 1),
    ("binary tag", "id: !!binary aGVsbG8=\n", "tag '!!binary' is not supported", 1),
    ("merge key", "base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys ('<<') are not supported", 1),
    ("merge key with a plain value", "other:\n  <<: 1\n", "merge keys ('<<') are not supported", 1),
    ("two documents", VALID + "---\nid: other\n", "a second YAML document", 1),
    ("complex key", "? [a, b]\n: 1\n", "keys must be plain names", 1),
    ("nodes not a list", replaced("nodes:\n", "nodes: many\nold_nodes:\n"), "nodes: expected a list; got 'many'", 1),
    ("unknown top-level key", replaced("measure: VV\n", "measure: VV\nowner_name: x\n"), "unknown key 'owner_name'; did you mean 'owner'?", 1),
    ("missing id", replaced("id: mini\n", ""), "missing required key 'id'", 1),
    ("invalid level", replaced("    level: activity", "    level: action"), "expected one of 'input', 'activity'", 1),
    ("negative lag", replaced("lag_months: 3", "lag_months: -1"), "expected a number >= 0; got -1", 1),
    ("fractional lag", replaced("lag_months: 3", "lag_months: 1.5"), "expected a whole number; got 1.5", 1),
    ("quoted number", replaced("lag_months: 3", 'lag_months: "3"'), "expected a whole number; got '3'", 1),
    ("zero min_change", replaced("min_change: 0.1", "min_change: 0"), "expected a number > 0; got 0", 1),
    ("text min_change", replaced("min_change: 0.1", "min_change: big"), "expected a number; got 'big'", 1),
    ("nan min_change", replaced("min_change: 0.1", "min_change: .nan"), "expected a finite number", 1),
    ("date instead of month", replaced('start: "2012-01"', "start: 2012-01-15"), "expected a month written YYYY-MM", 1),
    ("month 13", replaced('start: "2012-01"', 'start: "2012-13"'), "expected a month written YYYY-MM", 1),
    ("yes is not a list", replaced("covariates: [age, sex, nationality]", "covariates: yes"), "expected a list; got 'yes'", 1),
    ("empty title", replaced('title: "Samtaler"', 'title: ""'), "expected a non-empty text", 1),
    ("null version", replaced('version: "1.0"', "version: null"), "version: expected a text; got null", 1),
    ("upper-case id", replaced("  - id: talks", "  - id: Talks"), "expected an identifier in lower case", 1),
    ("empty link end", replaced("  - from: talks", "  - from: []"), "expected at least 1 item(s)", 1),
    ("disclosure below 3", replaced("  targets:", "  disclosure: {min_count: 1}\n  targets:"), "expected a number >= 3; got 1", 1),
    ("cycle", replaced("expected_changes:\n", "  - {from: fewer_stays, to: talks}\nexpected_changes:\n"), "links form a cycle", 1),
    ("catalogue is a folder", replaced("catalogue: catalogue.yaml", "catalogue: ."), "is a directory", 1),
    ("catalogue missing", replaced("catalogue: catalogue.yaml", "catalogue: nope.yaml"), "does not exist", 1),
    ("catalogue is the model", replaced("catalogue: catalogue.yaml", "catalogue: broken.yaml"),
     "catalogue file '{dir}/broken.yaml' is the model file itself; expected an indicator catalogue", 1),
    ("catalogue is another model", replaced("catalogue: catalogue.yaml", "catalogue: valid.yaml"),
     "catalogue file '{dir}/valid.yaml' is a logic model, not an indicator catalogue", 1),
    ("catalogue is a device", replaced("catalogue: catalogue.yaml", "catalogue: /dev/null"),
     "catalogue file '/dev/null' is not a regular file (a device or pipe?)", 1),
    ("catalogue is a link loop", replaced("catalogue: catalogue.yaml", "catalogue: loop.yaml"),
     "catalogue file '{dir}/loop.yaml' is a symbolic link to nothing (or a loop of links)", 1),
]


@pytest.mark.parametrize("name, content, fragment, code", CASES, ids=[case[0] for case in CASES])
def test_malformed_model_file(tiltak_main, workdir: Path, name: str, content: str | bytes, fragment: str, code: int):
    path = workdir / "broken.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (workdir / "loop.yaml").symlink_to(workdir / "loop2.yaml")
    (workdir / "loop2.yaml").symlink_to(workdir / "loop.yaml")
    fragment = fragment.replace("{dir}", str(workdir))
    returncode, stdout, stderr = tiltak_main("validate", str(path))
    output = stdout + stderr
    assert returncode == code, output
    assert fragment in output, output
    assert str(path) in output


@pytest.mark.parametrize("name", ["tab indentation", "billion laughs", "binary garbage", "absurd nesting"])
def test_malformed_file_in_a_fresh_process_has_no_traceback(cli, workdir: Path, name: str):
    content = next(case[1] for case in CASES if case[0] == name)
    path = workdir / "broken.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = cli("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and str(path) in result.stdout


def test_table_is_large_enough():
    assert len(CASES) >= 30


def test_huge_file_is_refused(cli, workdir: Path):
    path = workdir / "huge.yaml"
    path.write_text("id: mini\ndescription: '" + "x" * 5_100_000 + "'\n", encoding="utf-8")
    result = cli("validate", str(path))
    assert result.returncode == 1
    assert f"{path}: error LM000: file is 5100025 bytes; the limit is 5000000 bytes" in result.stdout  # no :0:0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["validate"], "Missing argument"),
        (["validate", "does/not/exist.yaml"], "does/not/exist.yaml: no such file or directory"),
        (["validate", "models", "--format", "xml"], "Invalid value for '--format'"),
        (["validate", "/dev/null"], "/dev/null: is not a regular file"),
    ],
)
def test_usage_errors_exit_2(cli, args, fragment):
    result = cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_models_exits_2(cli, tmp_path: Path):
    result = cli("validate", str(tmp_path))
    assert result.returncode == 2
    assert "holds no logic models" in result.stderr


def test_folder_with_only_a_catalogue_exits_2(cli, tmp_path: Path):
    (tmp_path / "catalogue.yaml").write_text((FIXTURES / "catalogue.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("validate", str(tmp_path))
    assert result.returncode == 2
    assert "only catalogues" in result.stderr
