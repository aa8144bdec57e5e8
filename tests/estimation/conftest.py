"""Fixtures shared by the estimation tests."""

from __future__ import annotations

import pytest

from tiltak.cli import main


@pytest.fixture()
def run(capsys):
    """``tiltak match ARGS`` through tiltak.cli.main (as the console script runs it):
    (exit code, stdout, stderr)."""
    def invoke(*args):
        with pytest.raises(SystemExit) as info:
            main(["match", *map(str, args)])
        captured = capsys.readouterr()
        return info.value.code, captured.out, captured.err
    return invoke
