"""Declarations: load and validate the YAML under a config directory into a ``Config``.

    load_config(config_dir) -> Config                      raises ConfigError (errors only)
    validate_config(config_dir) -> (Config | None, problems incl. warnings)
    load_config_from_files(files, *, root="exports") -> (Config | None, problems)

The functions are imported on first use so that ``python -m reconciler.config.schema`` runs
without importing the pipeline first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.config.pipeline import load_config, load_config_from_files, validate_config

__all__ = ["load_config", "load_config_from_files", "validate_config"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from reconciler.config import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'reconciler.config' has no attribute {name!r}")
