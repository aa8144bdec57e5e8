"""The ``tiltak`` command.

Subcommands live one per module in :mod:`tiltak.commands`; each module defines a click
command or group named ``command``. They are discovered by file name and imported only
when used, so ``tiltak validate`` never pays for pandas, scikit-learn or DuckDB.
Command modules keep heavy imports inside their functions.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import click

from tiltak import __version__
from tiltak_base.errors import UserError  # the base of every package's user errors


def _command_names() -> list[str]:
    import tiltak.commands

    return sorted(
        info.name.replace("_", "-")
        for info in pkgutil.iter_modules(tiltak.commands.__path__)
        if not info.name.startswith("_")
    )


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _command_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _command_names():
            return None
        module = importlib.import_module(f"tiltak.commands.{name.replace('-', '_')}")
        return module.command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tiltak")
def cli() -> None:
    """tiltak: theory-of-change models, monitoring and effect evaluation.

    \b
    Examples:
      tiltak demo                      # everything on synthetic registers
      tiltak validate models/          # check logic models
      tiltak COMMAND --help            # help and an example for each command
    """


def report_user_error(exc: BaseException) -> int:
    lines = exc.lines() if hasattr(exc, "lines") else str(exc).splitlines()
    for line in lines:
        click.echo(line, err=True)
    return int(getattr(exc, "exit_code", 2))


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the command, turning known user errors into messages."""
    try:
        # Without standalone mode click returns the code of ctx.exit(n) instead of exiting.
        returned = cli.main(args=argv, prog_name="tiltak", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (tiltak ... | head): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as exc:
        name = f": {exc.filename}" if exc.filename else ""
        click.echo(f"tiltak: {exc.strerror or exc}{name}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - reported below, without its message unless a user error
        if isinstance(exc, UserError):
            sys.exit(report_user_error(exc))
        sys.exit(report_unexpected_error(exc))
    sys.exit(returned if isinstance(returned, int) else 0)


def report_unexpected_error(exc: BaseException) -> int:
    """A bug or an unforeseen failure: where it happened, never what it was working on.

    The traceback's frames (file, line, function, source line) are printed, but the
    exception's message is withheld, because messages of the database and of libraries
    can quote the values they were handling (a pseudonym, a health flag). The class is
    kept so the report is still useful.
    """
    import traceback

    from monitoring.errors import DatabaseFailure, _is_disk_full

    if _is_disk_full(exc):
        return report_user_error(DatabaseFailure("tiltak", exc, "the command stopped before finishing"))
    frames = traceback.format_tb(exc.__traceback__)
    click.echo("Traceback (most recent call last; the error message is withheld because it may quote "
               "register values):", err=True)
    for frame in frames:
        click.echo(frame.rstrip("\n"), err=True)
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    click.echo(f"{name}: an unexpected error (a bug in tiltak or its libraries); please report it with "
               "these lines", err=True)
    return 1
