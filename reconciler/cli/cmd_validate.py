"""``reconciler validate``: check every declaration and report all problems in one run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from reconciler import api
from reconciler.cli.options import config_dir_option, format_option
from reconciler.errors import Problem
from reconciler.models import Config

FORMATS = ("text", "json", "github")


@click.command("validate")
@config_dir_option
@format_option(
    FORMATS,
    "text for people, json for tools, github for pull-request annotations.",
    dest="output_format",
)
@click.option(
    "--sources",
    "check_sources",
    is_flag=True,
    help="Also open each enabled export's segment and check that its mapped columns exist "
    "(reads column names only; needs the sources' files or database credentials).",
)
def validate(config_dir: Path, output_format: str, check_sources: bool) -> None:
    """Check the YAML declarations and report every problem.

    Reads every *.yaml / *.yml file under --config-dir (recursively) and checks the JSON
    Schemas, references, list conflicts, consent, literal API keys, sources, segments and
    schedules. Prints each problem as path:line:col: error[CODE]: message, with a hint.
    Exits 0 when valid (warnings allowed), 1 on any error.

    \b
    Examples:
      reconciler validate
      reconciler validate --config-dir teams/growth/exports --format github
      reconciler validate --format json > problems.json
      reconciler validate --sources        # also check mapped columns exist
    """
    result = api.validate(config_dir, sources=check_sources)
    config, problems = result.config, result.problems
    if output_format == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    elif output_format == "github":
        for problem in problems:
            click.echo(github_annotation(problem))
        click.echo(summary(config_dir, config, problems))
    else:
        for problem in problems:
            click.echo(problem.render())
        click.echo(summary(config_dir, config, problems))
    raise SystemExit(1 if config is None else 0)


def summary(config_dir: Path, config: Config | None, problems: list[Problem]) -> str:
    """One line: counts per kind when valid, else the number of errors and warnings."""
    severities = Counter(p.severity for p in problems)
    warnings = f", {_plural(severities['warning'], 'warning')}" if severities["warning"] else ""
    if config is None:
        return f"{config_dir}: {_plural(severities['error'], 'error')}{warnings}"
    counts = [
        _plural(1 if config.access else 0, "Access", "Access"),
        _plural(len(config.connections), "Connection"),
        _plural(len(config.sources), "Source"),
        _plural(len(config.segments), "Segment"),
        _plural(len(config.exports), "Export"),
    ]
    return f"{config_dir}: valid ({', '.join(counts)}){warnings}"


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command that annotates the line in a pull request."""
    command = "error" if problem.severity == "error" else "warning"
    properties = ",".join(
        f"{key}={_escape_property(value)}"
        for key, value in (
            ("file", problem.file),
            ("line", str(problem.line)),
            ("col", str(problem.column)),
            ("title", problem.code),
        )
    )
    message = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    return f"::{command} {properties}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
