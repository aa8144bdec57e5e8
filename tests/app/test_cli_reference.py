"""docs/cli.md documents every command; run this file to regenerate it.

    python tests/app/test_cli_reference.py     # rewrites docs/cli.md from the --help texts
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "cli.md"
INTRO = """# Command reference

Every `tiltak` command, as its `--help` prints it. Exit codes everywhere: 0 ok, 1 findings
(an invalid model, a failed check, alerts with `--fail-on-alert`), 2 usage or input error
(one message per line on stderr, no traceback). Regenerate this page after changing a
command's help with `python tests/app/test_cli_reference.py`.
"""


def help_text(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tiltak", *args, "--help"], capture_output=True, text=True,
                            cwd=ROOT)
    return result.stdout.rstrip()


def command_tree() -> list[tuple[str, ...]]:
    import click

    from tiltak.cli import _command_names, cli

    tree: list[tuple[str, ...]] = []
    for name in _command_names():
        tree.append((name,))
        command = cli.get_command(click.Context(cli), name)
        if isinstance(command, click.Group):
            tree += [(name, sub) for sub in sorted(command.list_commands(click.Context(command)))]
    return tree


def reference() -> str:
    names = [t[0] for t in command_tree() if len(t) == 1]
    out = [INTRO, "Commands: " + ", ".join(f"[`{n}`](#tiltak-{n})" for n in names) + ".", "",
           "## tiltak", "", "```text", help_text(), "```", ""]
    for path in command_tree():
        out += [f"{'#' * (len(path) + 1)} tiltak {' '.join(path)}", "", "```text", help_text(*path), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def test_every_command_and_subcommand_has_a_section():
    text = REFERENCE.read_text(encoding="utf-8")
    for path in command_tree():
        assert f"{'#' * (len(path) + 1)} tiltak {' '.join(path)}\n" in text, path


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    REFERENCE.write_text(reference(), encoding="utf-8")
    print(REFERENCE)
