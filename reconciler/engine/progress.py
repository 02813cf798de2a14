"""How the engine reports progress: the CLI supplies a sink; the library never prints."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, task: str, total: int) -> None: ...

    def advance(self, task: str, amount: int) -> None: ...

    def note(self, text: str) -> None: ...


class NoProgress:
    """A sink that drops everything (library and test default)."""

    def start(self, task: str, total: int) -> None:
        return None

    def advance(self, task: str, amount: int) -> None:
        return None

    def note(self, text: str) -> None:
        return None
