"""Fixtures for every test folder."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiltak_main(capsys):
    """Run ``tiltak`` in this process through its entry point: ``(exit code, stdout, stderr)``.

    Same code path as the console script, without the start-up of a new interpreter; an
    unexpected exception propagates and fails the test.
    """
    from tiltak.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
