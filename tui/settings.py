"""rewrap's settings: built once, in `tui.cli.main`, from the flags and the `REWRAP_*` environment.

`load_settings` is the one place the environment and config.toml are read for settings;
everything below gets a frozen `Settings` and nothing writes `os.environ`. Each value: its flag,
else its variable, else its config.toml key (tui/config_file.py), else the default.

| setting            | flag                | environment                | config.toml       | default                   |
|--------------------|---------------------|----------------------------|-------------------|---------------------------|
| theme              | (command palette)   |                            | `theme`           | `textual-dark`            |
| external-IO dir    | `--external-io-dir` | `REWRAP_EXTERNAL_IO_DIR`   | `external_io_dir` | `<data dir>/extern`       |
| KMS call deadline  | `--kms-timeout`     | `REWRAP_KMS_TIMEOUT`       | `kms_timeout`     | 10 s                      |
| storage deadline   | `--storage-timeout` | `REWRAP_STORAGE_TIMEOUT`   | `storage_timeout` | 15 s                      |
| concurrency        | `--concurrency`     |                            | `concurrency`     | 8 (at most 256)           |
| dry run            | `--dry-run`         |                            |                   | off                       |
| data dir           |                     | `REWRAP_DATA_DIR`          |                   | platform user data dir    |
| audit journal      |                     | `REWRAP_AUDIT_LOG`         |                   | `<data dir>/audit.jsonl`  |
| test endpoints     |                     | `REWRAP_TEST_<FIELD>`      |                   | none                      |

The platform's user data dir is `~/.local/share/rewrap` on Linux. engine/paths.py applies the
same rules for code that runs without Settings (the library, tests).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.kms.base import KMSEnv
from tui.config_file import ConfigError, config_path, read_config
from engine.paths import audit_journal_path, data_dir as default_data_dir
from engine.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_KMS_TIMEOUT,
    DEFAULT_STORAGE_TIMEOUT,
    EXTERNAL_IO_DIR_ENV,
    KMS_TIMEOUT_ENV,
    STORAGE_TIMEOUT_ENV,
    EngineSettings,
    Limits,
    StorageSettings,
    check_concurrency,
    parse_seconds,
    test_settings_from_env,
)


DATA_DIR_ENV = "REWRAP_DATA_DIR"
AUDIT_LOG_ENV = "REWRAP_AUDIT_LOG"


class SettingsError(ValueError):
    """A flag or variable with a bad value; the message names it (a usage error, exit 2)."""


@dataclass(frozen=True)
class Settings:
    """What every face (batch, shell, console) runs with."""

    engine: EngineSettings = field(default_factory=EngineSettings)
    kms_env: KMSEnv = field(default_factory=KMSEnv)
    """Test-only KMS endpoints (REWRAP_TEST_*); production leaves every field None."""
    collections: tuple[str, ...] = ()
    """The console's `--collection` URIs, added to the browser."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Where rewrap keeps its state files (engine/paths.py has the table)."""
    audit_log: Path = field(default_factory=audit_journal_path)
    """The ALTER BACKUP audit journal."""
    theme: str | None = None
    """The console's Textual theme from config.toml (None: Textual's default)."""
    config_path: Path | None = None
    """The config.toml read (present or not), where a theme picked in the palette is kept;
    None: keep nothing (tests, a bare environment)."""

    @property
    def history_path(self) -> Path:
        return self.data_dir / "history"

    @property
    def collections_path(self) -> Path:
        return self.data_dir / "collections.json"


def load_settings(flags: object = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed flags (an argparse Namespace; absent attributes count as not given)
    over `environ` (the process environment when None) over the defaults. SettingsError names
    the first bad value."""
    env = os.environ if environ is None else environ
    path = config_path(env)
    try:
        conf = read_config(path)
    except ConfigError as e:
        raise SettingsError(str(e)) from None

    def flag(name: str) -> object:
        return getattr(flags, name, None)

    if env.get(DATA_DIR_ENV):  # engine.paths.data_dir's rule, over this environment
        data = Path(env[DATA_DIR_ENV])
    else:
        from platformdirs import user_data_path

        data = user_data_path("rewrap")
    audit_log = Path(env[AUDIT_LOG_ENV]) if env.get(AUDIT_LOG_ENV) else data / "audit.jsonl"
    io_flag = flag("external_io_dir")
    if io_flag:
        io_dir = _flag_dir(str(io_flag))
    elif env.get(EXTERNAL_IO_DIR_ENV):
        io_dir = Path(env[EXTERNAL_IO_DIR_ENV])
    elif "external_io_dir" in conf:
        io_dir = Path(str(conf["external_io_dir"])).expanduser()
    else:
        io_dir = data / "extern"
    storage = StorageSettings(
        external_io_dir=io_dir,
        **test_settings_from_env(StorageSettings, skip=("external_io_dir",), environ=env),
    )
    concurrency = flag("concurrency")
    where = "--concurrency"
    if concurrency is None and "concurrency" in conf:
        concurrency, where = conf["concurrency"], f"{path}: concurrency"
    concurrency = DEFAULT_CONCURRENCY if concurrency is None else concurrency
    assert isinstance(concurrency, int)
    try:
        check_concurrency(concurrency)
    except ValueError as e:
        raise SettingsError(str(e).replace("concurrency must", f"{where} must", 1)) from None
    limits = Limits(
        kms_timeout=_seconds(flag("kms_timeout"), "--kms-timeout", env, KMS_TIMEOUT_ENV,
                             _conf(conf, path, "kms_timeout", DEFAULT_KMS_TIMEOUT)),
        storage_timeout=_seconds(flag("storage_timeout"), "--storage-timeout", env, STORAGE_TIMEOUT_ENV,
                                 _conf(conf, path, "storage_timeout", DEFAULT_STORAGE_TIMEOUT)),
    )
    collections = flag("collection") or ()
    assert isinstance(collections, (list, tuple))
    return Settings(
        engine=EngineSettings(
            storage=storage, limits=limits, concurrency=concurrency, dry_run=bool(flag("dry_run"))
        ),
        kms_env=KMSEnv(**test_settings_from_env(KMSEnv, environ=env)),
        collections=tuple(str(c) for c in collections),
        data_dir=data,
        audit_log=audit_log,
        theme=str(conf["theme"]) if "theme" in conf else None,
        config_path=path,
    )


def _conf(conf: Mapping[str, object], path: Path | None, key: str, default: float) -> float:
    """config.toml's deadline `key` (checked by parse_seconds), else `default`."""
    if key not in conf:
        return default
    try:
        return parse_seconds(str(conf[key]), f"{path}: {key}")
    except ValueError as e:
        raise SettingsError(str(e)) from None


def _flag_dir(text: str) -> Path:
    if "\0" in text:
        raise SettingsError("--external-io-dir: a path cannot hold a NUL byte")
    try:
        return Path(text).resolve()
    except (OSError, RuntimeError):  # e.g. a symlink loop: let storage name the problem
        return Path(os.path.abspath(text))


def _seconds(given: object, flag: str, env: Mapping[str, str], var: str, default: float) -> float:
    """The flag's value, else the variable's, else `default`; each checked by parse_seconds."""
    try:
        if given is not None:
            return parse_seconds(str(given), flag)
        if env.get(var):
            return parse_seconds(env[var], var)
    except ValueError as e:
        raise SettingsError(str(e)) from None
    return default
