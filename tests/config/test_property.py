"""Property: whatever the bytes, loading never raises anything but ConfigError."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import load_config, load_config_from_files
from reconciler.errors import ConfigError
from tests.config.helpers import EXPORTS, VALID

SEEDS = [VALID] + [p.read_text(encoding="utf-8") for p in sorted(EXPORTS.glob("*.yaml"))]
YAML_BITS = [
    *":-?[]{},&*!|>'\"%@`#\t\n ",
    "---\n",
    "<<: ",
    "*a",
    "&a ",
    "!!binary ",
    "!!bool ",
    "!!int ",
    "!!float ",
    "!!python/object:x ",
    "\\x00",
    "yes",
    "~",
    "2026-13-45",
    "pk_",
    "kind: ",
    "Export",
    "\n  - ",
    "\xe9",
    "\x00",
    "\ufeff",
    "\x85",
]
EXAMPLES = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "150"))  # raise it for a longer hunt
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_yaml(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "swap"]))
        if action == "insert":
            text = text[:position] + draw(st.sampled_from(YAML_BITS)) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif action == "duplicate":
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: index + 1] + lines[index:])
        else:
            lines = text.splitlines(keepends=True) or [""]
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _check(content: bytes) -> None:
    config, problems = load_config_from_files({"exports/x.yaml": content})
    errors = [p for p in problems if p.severity == "error"]
    assert (config is None) == bool(errors)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
        assert problem.code and problem.message


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(content: bytes) -> None:
    _check(content)


@FAST
@given(mutated_yaml())
def test_mutated_yaml_never_raises(content: bytes) -> None:
    _check(content)


@settings(max_examples=40, deadline=None)
@given(mutated_yaml())
def test_load_config_raises_only_config_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "x.yaml").write_bytes(content)
        try:
            config = load_config(Path(folder))
        except ConfigError as exc:
            assert exc.problems
            assert all(p.severity == "error" for p in exc.problems)
        else:
            assert config.origins
