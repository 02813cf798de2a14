"""CLI fixtures: the end-to-end sandbox over a real socket and a harness wired to it."""

from __future__ import annotations

from tests.e2e.conftest import Harness, e2e_sandbox, harness

__all__ = ["Harness", "e2e_sandbox", "harness"]
