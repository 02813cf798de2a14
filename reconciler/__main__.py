"""``python -m reconciler``: the ``reconciler`` command."""

from reconciler.cli.main import main

main()
