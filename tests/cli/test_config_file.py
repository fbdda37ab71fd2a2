"""config.toml (tui/config_file.py) under the REWRAP_* environment under the flags; bad files,
bad values and unknown keys are usage errors naming the file and the key; a picked theme is
written back with the other keys and comments kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_support import env_for, run
from engine.settings import DEFAULT_KMS_TIMEOUT
from tui.cli import build_parser
from tui.config_file import ConfigError, config_path, read_config, save_key
from tui.settings import SettingsError, load_settings


def write_config(home: Path, text: str) -> Path:
    path = home / "rewrap" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def settings(argv: list[str], env: dict[str, str]):  # noqa: ANN201
    return load_settings(build_parser().parse_args(argv), env)


def test_the_config_dir_follows_xdg_then_home(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "rewrap" / "config.toml"
    assert config_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "rewrap" / "config.toml"
    assert config_path({"XDG_CONFIG_HOME": "relative", "HOME": "/h"}) == Path("/h/.config/rewrap/config.toml")
    assert config_path({}) is None


def test_every_key_is_read(tmp_path: Path) -> None:
    write_config(tmp_path, 'theme = "textual-light"\nexternal_io_dir = "/srv/x"\nconcurrency = 3\n'
                           "kms_timeout = 2.5\nstorage_timeout = 4\n")
    s = settings([], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert s.theme == "textual-light"
    assert s.engine.storage.external_io_dir == Path("/srv/x")
    assert s.engine.concurrency == 3
    assert (s.engine.limits.kms_timeout, s.engine.limits.storage_timeout) == (2.5, 4.0)
    assert s.config_path == tmp_path / "rewrap" / "config.toml"


def test_config_under_environment_under_flags(tmp_path: Path) -> None:
    write_config(tmp_path, 'kms_timeout = 2\nexternal_io_dir = "/conf"\nconcurrency = 3\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    s = settings([], env)
    assert (s.engine.limits.kms_timeout, s.engine.storage.external_io_dir) == (2.0, Path("/conf"))
    env |= {"REWRAP_KMS_TIMEOUT": "5", "REWRAP_EXTERNAL_IO_DIR": "/env"}
    s = settings([], env)
    assert (s.engine.limits.kms_timeout, s.engine.storage.external_io_dir) == (5.0, Path("/env"))
    assert s.engine.concurrency == 3
    s = settings(["--kms-timeout", "7", "--external-io-dir", "/flag", "--concurrency", "9"], env)
    assert (s.engine.limits.kms_timeout, s.engine.storage.external_io_dir, s.engine.concurrency) == (
        7.0, Path("/flag"), 9)


def test_a_missing_file_is_fine(tmp_path: Path) -> None:
    s = settings([], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert s.theme is None and s.engine.limits.kms_timeout == DEFAULT_KMS_TIMEOUT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kms_timeout = 0\n", "kms_timeout must be more than 0 seconds"),
        ('kms_timeout = "soon"\n', 'kms_timeout must be a number of seconds, not "soon"'),
        ("storage_timeout = true\n", "storage_timeout must be a number of seconds, not true"),
        ("concurrency = 1000\n", "concurrency must be between 1 and 256"),
        ("concurrency = 2.5\n", "concurrency must be a whole number, not 2.5"),
        ("theme = 3\n", "theme must be a theme name (a string), not 3"),
        ('external_io_dir = ""\n', 'external_io_dir must be a directory path (a string), not ""'),
        ("theme = [1]\n", "theme must be a theme name (a string), not an array"),
        ("kms_timeout = \n", "is not valid TOML"),
        ("themes = 'x'\nkms_timout = 3\n", "unknown keys 'kms_timout', 'themes' (known: theme,"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(SettingsError) as e:
        settings([], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value), str(e.value)


def test_a_directory_or_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "rewrap" / "config.toml"
    path.mkdir(parents=True)
    with pytest.raises(ConfigError, match="config.toml: is a directory"):
        read_config(path)
    path.rmdir()
    path.write_text("theme = 'x'\n")
    path.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads anything: a file it cannot read is a FIFO-free dir entry
            path.chmod(0o600)
            path.unlink()
            path.symlink_to(path)  # a symlink loop: open fails with ELOOP
        with pytest.raises(ConfigError, match="config.toml: cannot read: "):
            read_config(path)
    finally:
        if path.exists() and not path.is_symlink():
            path.chmod(0o600)


def test_batch_exits_2_naming_the_file_and_writes_nothing(tmp_path: Path) -> None:
    env = env_for(tmp_path, tmp_path / "extern")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "conf")
    path = write_config(tmp_path / "conf", "colour = 'red'\n")
    done = run(["-e", "SELECT 1"], env)
    assert done.returncode == 2, done.stderr
    assert f"rewrap: {path}: unknown key 'colour'" in done.stderr.decode()
    assert done.stdout == b""
    assert not (tmp_path / "data").exists()
    assert path.read_text() == "colour = 'red'\n"


def test_save_key_keeps_the_other_keys_and_comments(tmp_path: Path) -> None:
    path = write_config(tmp_path, '# mine\nkms_timeout = 3  # slow KMS\ntheme = "nord"\n')
    save_key(path, "theme", "textual-light")
    assert path.read_text() == '# mine\nkms_timeout = 3  # slow KMS\ntheme = "textual-light"\n'
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    fresh = tmp_path / "new" / "rewrap" / "config.toml"
    save_key(fresh, "theme", "dracula")
    assert read_config(fresh) == {"theme": "dracula"}


def test_save_key_leaves_a_bad_file_alone(tmp_path: Path) -> None:
    path = write_config(tmp_path, "typo = 1\n")
    with pytest.raises(ConfigError, match="unknown key 'typo'"):
        save_key(path, "theme", "nord")
    assert path.read_text() == "typo = 1\n"


def test_save_key_never_changes_another_key(tmp_path: Path) -> None:
    text = 'external_io_dir = """/srv\ntheme = "x"\n"""\n'
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match="cannot set theme without rewriting the file by hand"):
        save_key(path, "theme", "nord")
    assert path.read_text() == text
