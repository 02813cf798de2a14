"""The error tree drawn in ``reconciler/errors.py`` is the tree that exists: every module it
names imports, every class it names is there, and every ReconcilerError subclass is drawn."""

from __future__ import annotations

import importlib
import pkgutil
import re

import reconciler
import reconciler.errors
from reconciler.errors import ReconcilerError

DOC = reconciler.errors.__doc__ or ""


def _all_modules() -> None:
    for info in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _subclasses(cls: type[BaseException]) -> set[type[BaseException]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_module_named_in_the_docstring_exists() -> None:
    named = set(re.findall(r"``(reconciler(?:\.\w+)+)``", DOC))
    named |= {f"reconciler.{m}" for m in re.findall(r"\((\w+\.\w+)\)", DOC)}
    assert named
    for module in sorted(named):
        importlib.import_module(module)


def test_every_class_named_beside_a_module_lives_there() -> None:
    pairs = re.findall(r"(\w+) \((\w+\.\w+)\)", DOC)
    pairs += [(cls, mod) for mod, classes in _chains() for cls in classes]
    assert pairs
    for cls, module in pairs:
        assert hasattr(importlib.import_module(f"reconciler.{module}"), cls), (cls, module)


def _chains() -> list[tuple[str, list[str]]]:
    """``GitError > NotAGitRepository (audit.git)``: both classes live in audit.git."""
    return [
        (m, chain.split(" > ")) for chain, m in re.findall(r"(\w+(?: > \w+)+) \((\w+\.\w+)\)", DOC)
    ]


def test_every_error_class_of_the_package_is_drawn() -> None:
    _all_modules()
    ours = {c for c in _subclasses(ReconcilerError) if c.__module__.startswith("reconciler.")}
    klaviyo = importlib.import_module("reconciler.klaviyo.errors")
    drawn_elsewhere = {c for c in ours if c.__module__ == klaviyo.__name__}
    missing = sorted(c.__name__ for c in ours - drawn_elsewhere if c.__name__ not in DOC)
    assert missing == []
    for cls in drawn_elsewhere:  # the Klaviyo tree is drawn in its own module's docstring
        assert cls.__name__ in (klaviyo.__doc__ or ""), cls
