"""Bounds on what the loader reads (file count; file size and document count are tested in
tests/config/test_loader.py, the plan file size in test_reader_fuzz.py)."""

from __future__ import annotations

from pathlib import Path

from reconciler.config import validate_config
from reconciler.config.files import MAX_FILES


def test_more_yaml_files_than_the_limit_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    config_dir = tmp_path / "exports"
    config_dir.mkdir()
    for i in range(MAX_FILES + 1):
        (config_dir / f"f{i:04d}.yaml").write_text("kind: Access\n")
    config, problems = validate_config(config_dir)
    assert config is None
    assert any(f"more than {MAX_FILES} YAML files" in p.message for p in problems)
