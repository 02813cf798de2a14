"""``reconciler sandbox``: serve a local Klaviyo-compatible API until interrupted."""

from __future__ import annotations

import click

from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox.config import DEFAULT_KEY


def _masked(key: str) -> str:
    return f"{key[:3]}***" if len(key) > 6 else "***"


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
def sandbox(
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    time_scale: float,
    rate_limits: str,
    latency_ms: int,
    fault_rate: float,
    import_rate: float,
) -> None:
    """Serve a local Klaviyo-compatible API for tests, demos and benchmarks.

    \b
    Example:
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
    )
    server = SandboxServer(config, host=host, port=port)
    keys = ", ".join("+".join(_masked(key) for key in group) for group in config.accounts)
    click.echo(f"Klaviyo sandbox on {server.base_url} (accounts: {keys})")
    click.echo(
        f"  time scale {time_scale:g}, rate limits {rate_limits}, latency {latency_ms} ms, "
        f"fault rate {fault_rate:g}, import rate {import_rate:g} profiles/s"
    )
    click.echo(f"  admin: {server.base_url}/_sandbox/(lists/ID/members|faults|stats|reset)")
    click.echo("  press Ctrl+C to stop")
    server.serve_forever()
