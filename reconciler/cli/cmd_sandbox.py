"""``reconciler sandbox``: serve a local Klaviyo-compatible API until interrupted."""

from __future__ import annotations

import click

from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox.config import AUTH_ERRORS, DATETIME_FILTERS, DEFAULT_KEY, JOB_TTL, L


def _masked(key: str) -> str:
    return f"{key[:3]}***" if len(key) > 6 else "***"


def _scopes(entry: str) -> tuple[str, tuple[str, ...]]:
    key, sep, scopes = entry.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter("give KEY=SCOPE,SCOPE (for example pk_x=lists:read)")
    return key.strip(), tuple(s.strip() for s in scopes.split(",") if s.strip())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY",
    envvar="SANDBOX_API_KEYS",
    help=f"An accepted private API key; each key is its own account, keys joined by a comma "
    f"share one (repeatable; default '{DEFAULT_KEY}'; env SANDBOX_API_KEYS, space-separated).",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Run N times faster than Klaviyo: rate windows and job delays shrink N times; "
    "Retry-After stays in unscaled seconds (divide it by N).",
)
@click.option(
    "--rate-limits",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="Enforce Klaviyo's published rate limits.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Delay every API response by this many milliseconds.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of API requests answered with an injected 429, 500 or 503.",
)
@click.option(
    "--import-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=10_000.0,
    show_default=True,
    metavar="PROFILES_PER_SECOND",
    help="Bulk import processing speed per account (unscaled).",
)
@click.option(
    "--job-ttl",
    type=click.FloatRange(min=0, min_open=True),
    default=JOB_TTL,
    show_default=True,
    metavar="SECONDS",
    help="A bulk import job can be read this long after it was created (scaled), then 404.",
)
@click.option(
    "--l-steady",
    type=click.IntRange(min=1),
    default=L.steady,
    show_default=True,
    metavar="N",
    help="Steady limit (requests per minute) of the L tier; the docs page still says 700.",
)
@click.option(
    "--remaining-noise",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=0.05,
    show_default=True,
    metavar="F",
    help="RateLimit-Remaining is approximate: off by up to this share of the limit.",
)
@click.option(
    "--count-lag",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="profile_count shows a finished bulk import only this much later (scaled).",
)
@click.option(
    "--auth-errors",
    type=click.Choice(AUTH_ERRORS),
    default="current",
    show_default=True,
    help="legacy: a missing or malformed key is a 400 (older docs), not a 401.",
)
@click.option(
    "--datetime-filters",
    type=click.Choice(DATETIME_FILTERS),
    default="documented",
    show_default=True,
    help="documented: filter date-times only to the second or millisecond (else a 400).",
)
@click.option(
    "--double-opt-in",
    "double_opt_in",
    multiple=True,
    metavar="LIST_ID",
    help="This list has double opt-in: subscribing leaves profiles pending (repeatable).",
)
@click.option(
    "--key-scopes",
    "key_scopes",
    multiple=True,
    metavar="KEY=SCOPE,...",
    help="Grant KEY only these scopes, e.g. pk_x=lists:write,profiles:write (repeatable; "
    "other keys have every scope).",
)
def sandbox(
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    time_scale: float,
    rate_limits: str,
    latency_ms: int,
    fault_rate: float,
    import_rate: float,
    job_ttl: float,
    l_steady: int,
    remaining_noise: float,
    count_lag: float,
    auth_errors: str,
    datetime_filters: str,
    double_opt_in: tuple[str, ...],
    key_scopes: tuple[str, ...],
) -> None:
    """Serve a local Klaviyo-compatible API for tests, demos and benchmarks.

    Lists, members, bulk import jobs, rate limits and faults as Klaviyo serves them, on
    127.0.0.1 only, until Ctrl-C; --time-scale makes every rate window and job delay shorter.

    \b
    Examples:
      reconciler sandbox --port 8765 --api-key pk_test_one --time-scale 60
      curl -X POST localhost:8765/_sandbox/lists/Y6nRLr/members -d '{"emails":["a@b.com"]}'
      reconciler plan --base-url http://127.0.0.1:8765 --time-scale 60
    """
    config = SandboxConfig(
        api_keys=api_keys or (DEFAULT_KEY,),
        time_scale=time_scale,
        rate_limits=rate_limits == "on",
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        import_rate=import_rate,
        job_ttl=job_ttl,
        l_steady=l_steady,
        remaining_noise=remaining_noise,
        count_lag=count_lag,
        auth_errors=auth_errors,
        datetime_filters=datetime_filters,
        double_opt_in=double_opt_in,
        key_scopes=tuple(_scopes(entry) for entry in key_scopes),
    )
    server = SandboxServer(config, host=host, port=port)
    keys = ", ".join("+".join(_masked(key) for key in group) for group in config.accounts)
    click.echo(f"Klaviyo sandbox on {server.base_url} (accounts: {keys})")
    click.echo(
        f"  time scale {time_scale:g}, rate limits {rate_limits}, latency {latency_ms} ms, "
        f"fault rate {fault_rate:g}, import rate {import_rate:g} profiles/s"
    )
    click.echo(
        f"  L steady {l_steady}/m, remaining noise {remaining_noise:g}, job TTL {job_ttl:g} s, "
        f"count lag {count_lag:g} s, auth errors {auth_errors}, datetime filters {datetime_filters}"
    )
    click.echo(
        f"  admin: {server.base_url}/_sandbox/(lists/ID/members|lists/ID/remove-suppressed|"
        "profiles|profiles/(unsubscribe|delete|merge|confirm)|faults|stats|reset)"
    )
    click.echo("  press Ctrl+C to stop")
    server.serve_forever()
