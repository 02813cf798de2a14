"""``reconciler demo``: the whole flow on generated profiles against a local sandbox."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from reconciler.cli.cmd_apply import summary_lines
from reconciler.cli.cmd_plan import render
from reconciler.cli.progress import make_progress
from reconciler.config import load_config, validate_config
from reconciler.demo import (
    DEMO_KEY,
    copy_config,
    fit_limits,
    generate_profiles,
    profile_files,
    seed_members,
)
from reconciler.engine.applying import run_apply
from reconciler.engine.options import RunOptions
from reconciler.engine.planning import make_plan
from reconciler.engine.stopping import run_stoppable
from reconciler.errors import ReconcilerError
from reconciler.models import Config, Export
from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sources import read_segment
from reconciler.state import open_state


class DemoError(ReconcilerError):
    """The demo cannot start."""


def _step(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


def _seed_lists(server: SandboxServer, config: Config, config_dir: Path) -> None:
    """Give each list some current members: most of its segment, plus a few former ones."""
    for export in config.enabled_exports():
        desired = sorted(read_segment(config, export, config_dir).emails)
        members = seed_members(desired, keep=0.8, outsiders=max(1, len(desired) // 20))
        server.admin.seed(export.list_id, members)
        click.echo(f"list {export.list_id}: seeded with {len(members):,} existing members")


@click.command()
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exports"),
    show_default=True,
    help="Example declarations to run (copied; never modified).",
)
@click.option(
    "--profiles",
    type=click.IntRange(min=10, max=2_000_000),
    default=5_000,
    show_default=True,
    help="Sample profiles to generate.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=1.0),
    default=20.0,
    show_default=True,
    help="Sandbox time scale (rate windows run this many times faster).",
)
def demo(config_dir: Path, profiles: int, time_scale: float) -> None:
    """Run validate, plan, apply and plan again on sample data against a local sandbox.

    Copies the example declarations (--config-dir) into a temporary directory, generates
    --profiles sample profiles, starts a sandbox with rate limits on, and runs the whole cycle;
    it ends with 'all lists match their segments'. Nothing outside the temporary directory is
    written and no real key or network is needed.

    \b
    Examples:
      reconciler demo
      reconciler demo --profiles 200000 --time-scale 60
    """
    if not config_dir.is_dir():
        raise DemoError(
            f"{config_dir} is not a directory; "
            "run the demo from the repository root or pass --config-dir"
        )
    with tempfile.TemporaryDirectory(prefix="reconciler-demo-") as tmp:
        work = Path(tmp)
        cfg_dir = copy_config(config_dir, work)
        ok = _run(cfg_dir, work, profiles, time_scale)
    sys.exit(0 if ok else 1)


def _run(cfg_dir: Path, work: Path, profiles: int, time_scale: float) -> bool:
    _step(f"Generating {profiles:,} sample profiles")
    for note in fit_limits(cfg_dir, profiles):
        click.echo(note)
    config = load_config(cfg_dir)
    for path in profile_files(config, cfg_dir):
        generate_profiles(path, profiles)
        click.echo(f"wrote {path.name}")
    _step("Validating the declarations")
    validated, problems = validate_config(cfg_dir)
    for problem in problems:
        click.echo(problem.render())
    if validated is None:
        return False
    config = validated
    click.echo(
        f"valid: {len(config.connections)} connection(s), {len(config.segments)} segment(s), "
        f"{len(config.exports)} export(s)"
    )
    env = {c.api_key.env: DEMO_KEY for c in config.connections.values()}
    with SandboxServer(SandboxConfig(api_keys=(DEMO_KEY,), time_scale=time_scale)) as server:
        _step(f"Sandbox listening on {server.base_url} (rate limits on, time scale {time_scale:g})")
        _seed_lists(server, config, cfg_dir)
        options = RunOptions(
            config_dir=cfg_dir,
            base_url=server.base_url,
            time_scale=time_scale,
            state_url=str(work / "state.db"),
            state_root=work,
            env=env,
            actor="demo",
        )
        return _plan_apply_plan(options, server, config, cfg_dir)


def _matches(server: SandboxServer, config: Config, export: Export, cfg_dir: Path) -> bool:
    members = server.admin.members(export.list_id)
    desired = read_segment(config, export, cfg_dir).emails
    return members == desired if export.mode == "mirror" else members >= desired


def _plan_apply_plan(
    options: RunOptions, server: SandboxServer, config: Config, cfg_dir: Path
) -> bool:
    with open_state(options.state_url, root=options.state_root) as state:
        _step("Plan")
        click.echo(render(run_stoppable(make_plan(options, state)), "text"))
        _step("Apply")
        with make_progress() as progress:
            report = run_apply(options, state, progress=progress)
        for line in summary_lines(report):
            click.echo(line)
        _step("Plan again (expect no changes)")
        again = run_stoppable(make_plan(options, state))
        click.echo(render(again, "text"))
    converged = all(_matches(server, config, e, cfg_dir) for e in config.enabled_exports())
    _step("Summary")
    ok = converged and not again.has_changes
    verdict = "all lists match their segments" if ok else "NOT converged"
    click.echo(f"run {report.run_id}: {verdict}")
    return converged and not again.has_changes and not report.failed
