"""List locks for the SQLite backend: one OS file lock per list under ``.reconciler/locks/``.

``<name>.lock`` is the flock'd file; ``<name>.holder.json`` beside it names the holder. The OS
releases a flock when its process dies, so a crashed apply leaves no lock behind; a hung one
can be broken with ``force_unlock``, which unlinks both files (the next apply then locks a new
file while the old process keeps a lock on nothing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from reconciler.errors import LockTimeout, StateError
from reconciler.state.holder import UNKNOWN_HOLDER, HolderInfo

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
PRIVATE_DIR = 0o700  # the holder files name people (actors)
PRIVATE_FILE = 0o600


class FileListLocks:
    """Per-list file locks in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def lock_list(self, key: str, holder: str, *, timeout: float) -> Iterator[None]:
        lock_path, info_path = self._paths(key)
        try:
            self.directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.chmod(self.directory, PRIVATE_DIR)
        except OSError as exc:
            raise StateError(f"cannot create the lock directory {self.directory}: {exc}") from exc
        lock = FileLock(lock_path, timeout=-1 if timeout < 0 else timeout, mode=PRIVATE_FILE)
        started = time.monotonic()
        try:
            lock.acquire()
        except Timeout:
            waited = time.monotonic() - started
            raise LockTimeout(key, self.lock_holder(key) or UNKNOWN_HOLDER, waited) from None
        info = HolderInfo(key=key, holder=holder)
        try:
            _write_atomic(info_path, json.dumps(info.as_dict()))
            yield
        finally:
            self._remove_if_ours(info_path, info.token)
            lock.release()

    def lock_holder(self, key: str) -> str | None:
        lock_path, info_path = self._paths(key)
        if not lock_path.exists() or self._is_free(lock_path):
            return None
        info = _read_info(info_path)
        return info.describe() if info else UNKNOWN_HOLDER

    def force_unlock(self, key: str) -> bool:
        removed = False
        for path in self._paths(key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed = True
        return removed

    def held_locks(self) -> dict[str, str]:
        held: dict[str, str] = {}
        for info_path in sorted(self.directory.glob("*.holder.json")):
            info = _read_info(info_path)
            if info is not None and (description := self.lock_holder(info.key)):
                held[info.key] = description
        return held

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        stem = f"{_UNSAFE.sub('_', key)[:80]}-{digest}"
        return self.directory / f"{stem}.lock", self.directory / f"{stem}.holder.json"

    @staticmethod
    def _is_free(lock_path: Path) -> bool:
        probe = FileLock(lock_path, timeout=0)
        try:
            probe.acquire()
        except Timeout:
            return False
        probe.release()
        return True

    @staticmethod
    def _remove_if_ours(info_path: Path, token: str) -> None:
        info = _read_info(info_path)
        if info is not None and info.token == token:
            with contextlib.suppress(FileNotFoundError):
                info_path.unlink()


def _read_info(path: Path) -> HolderInfo | None:
    try:
        return HolderInfo.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    temp.replace(path)
