"""The ``reconciler`` command group: lazy command loading, process set-up, the error handler."""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType
from typing import Any

import click

from reconciler import __version__, signals
from reconciler.cli import logformat
from reconciler.cli.errors import DEBUG_KEY, fail, handled
from reconciler.cli.process import prepare_process
from reconciler.engine.stopping import Interrupted

# command name -> "module:attribute"; each module holds one command and its help.
COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.cmd_validate:validate",
    "plan": "reconciler.cli.cmd_plan:plan",
    "apply": "reconciler.cli.cmd_apply:apply",
    "demo": "reconciler.cli.cmd_demo:demo",
    "sandbox": "reconciler.cli.cmd_sandbox:sandbox",
    "segments": "reconciler.cli.cmd_segments:segments",
    "runs": "reconciler.cli.cmd_runs:runs",
    "force-unlock": "reconciler.cli.cmd_runs:force_unlock",
    "audit": "reconciler.cli.cmd_audit:audit",
    "lists": "reconciler.cli.cmd_lists:lists",
    "import": "reconciler.cli.cmd_import:import_",
    "init": "reconciler.cli.cmd_init:init",
    "report": "reconciler.cli.cmd_report:report",
}


class LazyGroup(click.Group):
    """Imports a command's module only when it is used (or listed in --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with each description whole (click cuts them at 45 characters)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        with handled(ctx):
            stop_if_signalled()  # one that came while the command's modules were loaded
            return super().invoke(ctx)


def _remember_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta[DEBUG_KEY] = value
    return value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--debug",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    envvar="RECONCILER_DEBUG",
    callback=_remember_debug,
    help="Show the full traceback of an unexpected error instead of a one-line message.",
)
@click.option(
    "--log-format",
    type=click.Choice(logformat.FORMATS),
    default="human",
    show_default=True,
    envvar="RECONCILER_LOG_FORMAT",
    help="json: stderr becomes one JSON object per event (masked), for log aggregators. "
    "Env RECONCILER_LOG_FORMAT.",
)
@click.pass_context
def cli(ctx: click.Context, log_format: str) -> None:
    """Export customer segments to Klaviyo lists, declared as YAML in git.

    Validate the declarations, plan the difference between each segment and its Klaviyo
    list, and apply only that difference, safely and fast.
    """
    if log_format == "json":
        original, handler = logformat.use_json_logs()
        ctx.call_on_close(lambda: logformat.restore(original, handler))


def _on_signal(signum: int, frame: FrameType | None) -> None:
    signals.note(signum)  # acted on later if Python ignores the exception (see signals)
    raise Interrupted(signum)


def stop_if_signalled() -> None:
    """Raise :class:`Interrupted` for a signal noted whose exception Python ignored."""
    signum = signals.take()
    if signum is not None:
        raise Interrupted(signum)


def main() -> None:
    """The console entry point: a signal outside a running command ends it with one line."""
    signals.quiet_dropped(KeyboardInterrupt)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    prepare_process()  # before any command loads pyarrow
    try:
        stop_if_signalled()  # one that came while Python loaded this module
        cli.main(prog_name="reconciler", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort as exc:  # Ctrl-C or end of input outside a command's own handler
        if isinstance(exc.__context__, KeyboardInterrupt):
            fail(exc.__context__)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except KeyboardInterrupt as exc:
        fail(exc)


if __name__ == "__main__":
    main()
