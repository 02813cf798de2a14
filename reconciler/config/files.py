"""Finding the declaration files and turning their bytes into text, with clear errors."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from reconciler.config import codes
from reconciler.errors import Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 1000
YAML_SUFFIXES = (".yaml", ".yml")


def display_root(config_dir: Path) -> str:
    """How to show ``config_dir`` in messages: relative to the working directory when inside it."""
    try:
        return config_dir.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except (ValueError, OSError):
        return config_dir.as_posix()


def read_config_dir(config_dir: Path) -> tuple[dict[str, bytes], list[Problem]]:
    """``display path -> bytes`` of every YAML file under ``config_dir`` (recursive, sorted)."""
    root = display_root(config_dir)
    if not config_dir.is_dir():
        what = "is not a directory" if config_dir.exists() else "does not exist"
        return {}, [_dir_problem(root, f"config directory {root} {what}")]
    try:
        relatives = sorted(_yaml_files(config_dir))
    except OSError as exc:
        return {}, [_dir_problem(root, f"cannot list {root}: {exc.strerror or 'error'}")]
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for relative in relatives[:MAX_FILES]:
        shown = f"{root}/{relative}" if root != "." else relative
        content, problem = _read(config_dir / relative, shown)
        if problem is not None:
            problems.append(problem)
        else:
            files[shown] = content
    if len(relatives) > MAX_FILES:
        problems.append(_dir_problem(root, f"more than {MAX_FILES} YAML files under {root}"))
    if not relatives:
        problems.append(_dir_problem(root, f"no *.yaml or *.yml file under {root}"))
    return files, problems


def _yaml_files(config_dir: Path) -> Iterable[str]:
    def fail(exc: OSError) -> None:
        raise exc

    for folder, dirs, names in os.walk(config_dir, onerror=fail):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(folder).relative_to(config_dir)
        for name in names:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                yield (relative / name).as_posix()


def _read(path: Path, shown: str) -> tuple[bytes, Problem | None]:
    if not path.is_file():  # a FIFO, socket or dangling link would block or fail
        return b"", Problem(shown, 1, 1, codes.NO_CONFIG, "not a regular file", "remove it")
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1), None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return b"", Problem(shown, 1, 1, codes.NO_CONFIG, f"cannot read the file: {reason}")


def select_files(files: Mapping[str, bytes], root: str) -> dict[str, bytes]:
    """The YAML files of an in-memory tree (repo-relative path -> bytes) that lie under ``root``."""
    base = PurePosixPath(root.strip("/") or ".")
    selected: dict[str, bytes] = {}
    for name in sorted(files):
        path = PurePosixPath(name)
        inside = base == PurePosixPath(".") or base in path.parents
        relative = path.relative_to(base) if inside else path
        hidden = any(part.startswith(".") for part in relative.parts)
        if inside and not hidden and path.name.endswith(YAML_SUFFIXES):
            selected[name] = files[name]
    return selected


def decode(content: bytes, shown: str) -> tuple[str, Problem | None]:
    """The text of a file, or the problem that prevents reading it."""
    if len(content) > MAX_FILE_BYTES:
        return "", _file_problem(
            shown, codes.TOO_LARGE, "file is larger than 1 MiB", "split it into smaller files"
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", _file_problem(shown, codes.ENCODING, "file is UTF-16", "save it as UTF-8")
    if b"\x00" in content:
        return "", _file_problem(
            shown,
            codes.ENCODING,
            "file is binary (it contains NUL bytes)",
            "declarations are UTF-8 YAML text; is this the right file?",
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = content[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return "", Problem(
            shown,
            line,
            column,
            codes.ENCODING,
            f"file is not valid UTF-8 (byte 0x{content[exc.start]:02x})",
            "save the file as UTF-8",
        )
    return text, None


def _file_problem(shown: str, code: str, message: str, hint: str = "") -> Problem:
    return Problem(shown, 1, 1, code, message, hint)


def _dir_problem(root: str, message: str) -> Problem:
    return Problem(root, 1, 1, codes.NO_CONFIG, message, "pass --config-dir DIR")
