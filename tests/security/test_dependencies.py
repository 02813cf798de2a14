"""Every installed distribution the project depends on (recursively, with the ``test`` extra) is
pinned in .ci/constraints.txt at exactly the installed version, so CI pulls in nothing else."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"
PROJECT = "klaviyo-segment-reconciler"


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for number, raw in enumerate(CONSTRAINTS.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip(), f"constraints.txt:{number}: '{raw}' is not NAME==VERSION"
        key = canonicalize_name(name)
        assert key not in found, f"constraints.txt:{number}: {name} is pinned twice"
        found[key] = version.strip()
    return found


def dependency_closure() -> dict[str, str]:
    """Installed name -> version of everything the project requires, with the test extra."""
    seen: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(PROJECT, frozenset({"test"}))]
    while todo:
        name, extras = todo.pop()
        dist = metadata.distribution(name)
        for text in dist.requires or []:
            req = Requirement(text)
            wanted = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in wanted):
                continue
            key = canonicalize_name(req.name)
            try:
                version = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                raise AssertionError(f"{req.name} (required by {name}) is not installed") from None
            if key not in seen:
                seen[key] = version
                todo.append((req.name, frozenset(req.extras)))
            elif req.extras:
                todo.append((req.name, frozenset(req.extras)))
    return seen


def test_every_dependency_is_pinned_at_its_installed_version() -> None:
    pinned = pins()
    closure = dependency_closure()
    assert {"pydantic", "httpx", "pytest", "hypothesis", "anyio"} <= set(closure)
    unpinned = sorted(name for name in closure if name not in pinned)
    assert not unpinned, f"not in .ci/constraints.txt: {unpinned}"
    drift = {n: (v, pinned[n]) for n, v in closure.items() if pinned[n] != v}
    assert not drift, f"installed != pinned (installed, pinned): {drift}"


def test_constraints_do_not_pin_the_project_itself() -> None:
    assert canonicalize_name(PROJECT) not in pins()
