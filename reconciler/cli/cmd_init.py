"""``reconciler init``: scaffold a config repository."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.config.scaffold import scaffold


@click.command("init")
@click.argument(
    "directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def init(directory: Path) -> None:
    """Start a config repository in DIRECTORY (default: the current directory).

    Writes exports/ with a commented example of each kind (each file starts with its
    yaml-language-server schema line; the schemas go to schemas/), a sample CSV, the GitHub
    workflow (.github/workflows/reconcile.yml), a .gitignore for the state directory and a
    README stub. Refuses to overwrite any file: nothing is written if one exists.

    \b
    Examples:
      reconciler init klaviyo-exports && cd klaviyo-exports && reconciler validate
      reconciler init .
    """
    done = scaffold(directory)
    for path in done.files:
        click.echo(f"  created {done.root / path}")
    click.echo(
        f"Config repository ready in {done.root.resolve()}. Next: fill in the connection's "
        "consent, find your list id with 'reconciler lists', then 'reconciler validate'."
    )
