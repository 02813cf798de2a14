"""Declarations: load and validate the YAML under a config directory into a ``Config``.

load_config(config_dir) -> Config                      raises ConfigError (errors only)
validate_config(config_dir) -> (Config | None, problems incl. warnings)
load_config_from_files(files, *, root="exports") -> (Config | None, problems)
"""

from reconciler.config.pipeline import load_config, load_config_from_files, validate_config

__all__ = ["load_config", "load_config_from_files", "validate_config"]
