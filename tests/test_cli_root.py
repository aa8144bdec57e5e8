"""The root command: version, help, and the discovery of subcommands."""

import subprocess
import sys

import tiltak
from tiltak.cli import _command_names


def run(*args):
    return subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True)


def test_version_prints_package_version():
    result = run("--version")
    assert result.returncode == 0
    assert tiltak.__version__ in result.stdout


def test_unknown_command_is_a_usage_error():
    result = run("no-such-command")
    assert result.returncode == 2
    assert "no-such-command" in result.stderr


def test_every_command_module_defines_a_command_with_help():
    for name in _command_names():
        result = run(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "Example" in result.stdout, name


def test_exit_code_of_ctx_exit_reaches_the_shell(monkeypatch):
    import click
    import pytest

    import tiltak.cli as cli_module

    @click.command()
    @click.pass_context
    def exits_three(ctx):
        ctx.exit(3)

    monkeypatch.setattr(cli_module.LazyGroup, "get_command", lambda self, ctx, name: exits_three)
    monkeypatch.setattr(cli_module, "_command_names", lambda: ["exits-three"])
    with pytest.raises(SystemExit) as raised:
        cli_module.main(["exits-three"])
    assert raised.value.code == 3


def test_a_full_disk_on_stdout_is_one_message_not_a_traceback():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "tiltak", "schema"], stdout=full,
                                stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2
    assert "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
