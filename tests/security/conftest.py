"""The e2e sandbox and harness, shared with the security tests."""

from tests.e2e.conftest import e2e_sandbox, harness

__all__ = ["e2e_sandbox", "harness"]
