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
