"""The ``reconciler`` command group: lazy command loading and the one error handler."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.cli import logformat
from reconciler.cli.process import tune_gc
from reconciler.errors import ConfigError, ReconcilerError

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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(problem.render(), err=True)
            click.secho(str(exc), fg="red", err=True)
            sys.exit(exc.exit_code)
        except ReconcilerError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  hint: {exc.hint}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
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


def main() -> None:
    tune_gc()
    cli(prog_name="reconciler")


if __name__ == "__main__":
    main()
