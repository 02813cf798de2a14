"""The loading pipeline: files -> text -> YAML documents -> declarations -> rules -> Config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from reconciler.config import codes
from reconciler.config.build import Declared, assemble, declare, unique_names
from reconciler.config.files import decode, read_config_dir, select_files
from reconciler.config.rules import check_rules
from reconciler.config.secrets import find_keys, looks_secret, redact
from reconciler.config.yamlsafe import YamlDocument, parse_documents
from reconciler.errors import ConfigError, Problem
from reconciler.models import Config

# problems after which some declarations of a file are unknown: cross-file rules are skipped
LOSSY = {
    codes.ENCODING,
    codes.YAML_SYNTAX,
    codes.TOO_LARGE,
    codes.UNSUPPORTED_YAML,
    codes.NO_CONFIG,
}
SECRET_HINT = (
    "remove the key from the file (and rotate it: it is in git history); declare "
    "`api_key: {env: NAME}` and set the environment variable NAME instead"
)


def load_config(config_dir: Path) -> Config:
    """The validated Config of ``config_dir``; raises ConfigError listing every error."""
    config, problems = validate_config(config_dir)
    if config is None:
        raise ConfigError([p for p in problems if p.severity == "error"])
    return config


def validate_config(config_dir: Path) -> tuple[Config | None, list[Problem]]:
    """(Config, problems including warnings); the Config is None when there is any error."""
    files, problems = read_config_dir(config_dir)
    config, found = _validate(files, complete=not problems)
    return _finish(config, problems + found)


def load_config_from_files(
    files: Mapping[str, bytes], *, root: str = "exports"
) -> tuple[Config | None, list[Problem]]:
    """The same pipeline over in-memory files (repo-relative path -> content) under ``root``."""
    selected = select_files(files, root)
    problems = []
    if not selected:
        problems.append(
            Problem(root, 1, 1, codes.NO_CONFIG, f"no *.yaml or *.yml file under {root}")
        )
    config, found = _validate(selected, complete=True)
    return _finish(config, problems + found)


def _finish(config: Config | None, problems: list[Problem]) -> tuple[Config | None, list[Problem]]:
    clean = sorted(
        {replace(p, message=redact(p.message), hint=redact(p.hint)) for p in problems},
        key=lambda p: (p.file, p.line, p.column, p.code, p.message),
    )
    has_errors = any(p.severity == "error" for p in clean)
    return (None if has_errors else config), clean


def _validate(files: Mapping[str, bytes], *, complete: bool) -> tuple[Config | None, list[Problem]]:
    problems: list[Problem] = []
    declared: list[Declared] = []
    for shown, content in files.items():
        documents, file_problems = _read_file(shown, content)
        problems += file_problems
        complete = complete and not any(p.code in LOSSY for p in file_problems)
        for document in documents:
            item, found = declare(document)
            problems += found
            if item is not None:
                declared.append(item)
    problems += unique_names(declared)
    problems += check_rules(declared, complete=complete)
    try:
        config = assemble(declared)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        problems.append(Problem(".", 1, 1, codes.INVALID_VALUE, redact(str(exc))[:200]))
        return None, problems
    return config, problems


def _read_file(shown: str, content: bytes) -> tuple[list[YamlDocument], list[Problem]]:
    text, problem = decode(content, shown)
    if problem is not None:
        return [], [problem]
    problems = _secret_problems(shown, text)
    documents, issues = parse_documents(text, shown)
    problems += _secrets_in_values(documents, {p.line for p in problems})
    problems += [
        Problem(shown, i.mark.line, i.mark.column, i.code, i.message, i.hint) for i in issues
    ]
    if not documents and not issues:
        problems.append(
            Problem(
                shown,
                1,
                1,
                codes.EMPTY,
                "the file holds no YAML document",
                "add declarations or delete the file",
            )
        )
    return documents, problems


def _secret_problems(shown: str, text: str) -> list[Problem]:
    return [
        Problem(
            shown,
            line,
            column,
            codes.LITERAL_SECRET,
            "a literal Klaviyo private API key is in this file",
            SECRET_HINT,
        )
        for line, column in find_keys(text)
    ]


def _secrets_in_values(documents: list[YamlDocument], lines: set[int]) -> list[Problem]:
    """Keys hidden from the text scan by YAML escapes or folding (e.g. "pk_\\x41...")."""
    problems = []
    for document in documents:
        for path, value in _strings(document.data, ()):
            mark = document.at(path)
            if looks_secret(value) and mark.line not in lines:
                lines.add(mark.line)
                problems.append(
                    Problem(
                        document.file,
                        mark.line,
                        mark.column,
                        codes.LITERAL_SECRET,
                        "a literal Klaviyo private API key is in this file",
                        SECRET_HINT,
                    )
                )
    return problems


def _strings(value: object, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        pairs = [(path, k) for k in value if isinstance(k, str)]
        return pairs + [s for k, v in value.items() for s in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, (*path, i))]
    return []
