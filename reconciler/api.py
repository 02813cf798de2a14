"""The public Python API, for orchestrators (Airflow, Dagster, Prefect) and scripts.

It returns the same typed values that the CLI renders, and raises the same typed errors
(``reconciler.errors``); it never prints. The CLI's ``validate``, ``plan`` and ``apply`` are a
thin layer over it.

    >>> from reconciler import api
    >>> result = api.validate("exports")
    >>> result.ok, [p.render() for p in result.errors]
    >>> plan = api.plan("exports", exports=["vip-to-klaviyo"])
    >>> plan.has_changes, [(e.name, len(e.add), len(e.remove), e.blocked) for e in plan.exports]
    >>> report = api.apply("exports", plan=plan)           # applies that plan if still current
    >>> report.run_id, report.failed, [(o.name, o.outcome) for o in report.outcomes]
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

from reconciler.audit.git import find_root
from reconciler.config import load_config, validate_config
from reconciler.engine.applying import ApplyReport, Confirm, run_apply
from reconciler.engine.options import RunOptions
from reconciler.engine.planning import make_plan
from reconciler.engine.progress import Progress
from reconciler.engine.stopping import ApplyInterrupted, StopSignal, run_stoppable
from reconciler.errors import Problem, ReconcilerError
from reconciler.models import Config
from reconciler.notify import Delivery, notify
from reconciler.notify.journal import find_run, summary_from
from reconciler.plan.model import Plan
from reconciler.state import StateBackend, open_state

__all__ = [
    "ApplyReport",
    "Plan",
    "RunSettings",
    "Validation",
    "apply",
    "apply_run",
    "options",
    "plan",
    "plan_run",
    "validate",
]

log = logging.getLogger("reconciler.notify")
OnDelivery = Callable[[Delivery], None]


class RunSettings(TypedDict, total=False):
    """The keyword arguments of :func:`options`, :func:`plan` and :func:`apply`."""

    exports: Sequence[str]
    state: str | None
    force: bool
    refresh: bool
    due_only: bool
    base_url: str | None
    time_scale: float
    actor: str | None
    base_ref: str | None
    lock_timeout: float
    env: Mapping[str, str] | None


@dataclass(frozen=True)
class Validation:
    """What ``validate`` found: the Config (None when there is any error) and every problem."""

    config: Config | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def state_root_for(config_dir: Path) -> Path:
    """Where the default state lives: the config's git repository root, else the config dir
    (never the current directory: the same journal and cache from wherever it is run)."""
    return find_root(config_dir) or config_dir.absolute()


def validate(config_dir: str | Path = "exports", *, sources: bool = False) -> Validation:
    """Check every declaration under ``config_dir`` (and with ``sources``, open each enabled
    export's segment to check its mapped columns exist).

    >>> api.validate("exports").ok
    """
    directory = Path(config_dir)
    config, problems = validate_config(directory)
    if config is not None and sources:
        from reconciler.engine.columns import column_problems  # opens sources: only if asked

        problems = problems + column_problems(config, directory)
        if any(p.severity == "error" for p in problems):
            config = None
    return Validation(config=config, problems=problems)


def options(
    config_dir: str | Path = "exports",
    *,
    exports: Sequence[str] = (),
    state: str | None = None,
    force: bool = False,
    refresh: bool = False,
    due_only: bool = False,
    base_url: str | None = None,
    time_scale: float = RunOptions.time_scale,
    actor: str | None = None,
    base_ref: str | None = None,
    lock_timeout: float = RunOptions.lock_timeout,
    env: Mapping[str, str] | None = None,
) -> RunOptions:
    """The options of a plan or apply run (``state``: a postgresql:// URL or an SQLite path;
    ``env``: variables that take precedence over the process environment, e.g. API keys)."""
    return RunOptions(
        config_dir=Path(config_dir),
        exports=tuple(exports),
        force=force,
        refresh=refresh,
        base_url=base_url,
        time_scale=time_scale,
        state_url=state,
        state_root=state_root_for(Path(config_dir)),
        actor=actor,
        lock_timeout=lock_timeout,
        base_ref=base_ref,
        due_only=due_only,
        env=dict(env or {}),
    )


def plan(config_dir: str | Path = "exports", **settings: Unpack[RunSettings]) -> Plan:
    """The plan of every selected, enabled export; nothing is changed. ``settings`` are the
    keyword arguments of :func:`options`.

    >>> plan = api.plan("exports", exports=["vip-to-klaviyo"], state="postgresql://ci@db/state")
    >>> [(e.name, len(e.add), len(e.remove), e.reasons) for e in plan.exports]
    """
    return plan_run(options(config_dir, **settings))


def plan_run(
    run: RunOptions, *, state: StateBackend | None = None, progress: Progress | None = None
) -> Plan:
    """:func:`plan` with ready-made options (what the CLI calls, with the ``state`` it opened).
    A SIGINT/SIGTERM in the main thread ends it cleanly with ``Interrupted``."""
    with ExitStack() as stack:
        if state is None:
            state = stack.enter_context(open_state(run.state_url, root=run.state_root))
        return run_stoppable(make_plan(run, state, progress))


def apply(
    config_dir: str | Path = "exports",
    *,
    plan: Plan | None = None,
    on_delivery: OnDelivery | None = None,
    **settings: Unpack[RunSettings],
) -> ApplyReport:
    """Apply ``plan`` (refused when stale), or plan and apply in one go; journal the run, then
    send the declared notifications. Without a confirmation callback nothing asks: the caller
    decides by calling it. Raises ApplyInterrupted on SIGINT/SIGTERM (in the main thread).

    >>> report = api.apply("exports", exports=["vip-to-klaviyo"])
    >>> report.failed, [(o.name, o.added, o.removed, o.outcome) for o in report.outcomes]
    """
    run = options(config_dir, **settings)
    return apply_run(run, saved=plan, on_delivery=on_delivery)


def apply_run(
    run: RunOptions,
    *,
    saved: Plan | None = None,
    confirm: Confirm = lambda plan: True,
    progress: Progress | None = None,
    notify_after: bool = True,
    on_delivery: OnDelivery | None = None,
    state: StateBackend | None = None,
    stop: StopSignal | None = None,
) -> ApplyReport:
    """:func:`apply` with ready-made options (what the CLI calls, with the ``state`` it opened
    and the ``stop`` signal its prompt shares). Each notification's :class:`Delivery` goes to
    ``on_delivery`` (default: a log warning when it failed)."""
    started = dt.datetime.now(dt.UTC)
    report_delivery = on_delivery or _log_delivery
    with ExitStack() as stack:
        if state is None:
            state = stack.enter_context(open_state(run.state_url, root=run.state_root))
        try:
            report = run_apply(
                run, state, saved=saved, confirm=confirm, progress=progress, stop=stop
            )
        except ApplyInterrupted:
            if notify_after:
                _notify(run, state, None, None, started, report_delivery)
            raise
        if notify_after:
            _notify(run, state, report.run_id, report.plan, started, report_delivery)
    return report


def _notify(
    run: RunOptions,
    state: StateBackend,
    run_id: str | None,
    plan: Plan | None,
    since: dt.datetime,
    on_delivery: OnDelivery,
) -> None:
    try:
        config = load_config(run.config_dir)
        record = (
            find_run(state.journal.list_runs(limit=20), run_id, since)
            if config.notifications
            else None
        )
    except ReconcilerError as exc:
        on_delivery(Delivery("(all)", (), sent=False, problem=str(exc)))
        return
    if record is None:
        return
    for delivery in notify(config, summary_from(record, plan), {**os.environ, **run.env}):
        on_delivery(delivery)


def _log_delivery(delivery: Delivery) -> None:
    if delivery.warning:
        log.warning(delivery.warning)
