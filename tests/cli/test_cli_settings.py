"""The command line and the settings it builds: options before or after a command, --version,
`shell` and `demo` in --help, flags over environment over defaults, and nothing written to
os.environ (tui/cli.py, tui/settings.py)."""

from __future__ import annotations

import io
import os
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from cli_support import COLL, REWRAP, demo_io_dir, env_for, run
from engine.settings import DEFAULT_KMS_TIMEOUT, DEFAULT_STORAGE_TIMEOUT, limits, set_limits
from tui.cli import build_parser, main
from tui.settings import SettingsError, load_settings


def settings_of(argv: list[str], environ: dict[str, str] | None = None):  # noqa: ANN201
    return load_settings(build_parser().parse_args(argv), environ or {})


@pytest.mark.parametrize(
    "argv",
    [
        ["--external-io-dir", "/srv/x", "--kms-timeout", "3", "--dry-run", "--concurrency", "2", "shell"],
        ["shell", "--external-io-dir", "/srv/x", "--kms-timeout", "3", "--dry-run", "--concurrency", "2"],
        ["--external-io-dir", "/srv/x", "--dry-run", "shell", "--kms-timeout", "3", "--concurrency", "2"],
    ],
)
def test_shell_takes_the_run_options_before_or_after_its_name(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "shell"
    s = load_settings(args, {})
    assert s.engine.storage.external_io_dir == Path("/srv/x")
    assert (s.engine.limits.kms_timeout, s.engine.dry_run, s.engine.concurrency) == (3.0, True, 2)
    assert s.engine.limits.storage_timeout == DEFAULT_STORAGE_TIMEOUT


def test_after_the_command_wins_over_before() -> None:
    s = settings_of(["--external-io-dir", "/a", "shell", "--external-io-dir", "/b"])
    assert s.engine.storage.external_io_dir == Path("/b")


def test_demo_takes_the_storage_options_before_or_after_its_name(tmp_path: Path) -> None:
    env = env_for(tmp_path, tmp_path / "extern")
    del env["REWRAP_EXTERNAL_IO_DIR"]
    before = run(["--external-io-dir", str(tmp_path / "one"), "demo", "nodelocal://self/d", "--seed", "1"], env)
    after = run(["demo", "nodelocal://self/d", "--seed", "1", "--external-io-dir", str(tmp_path / "two")], env)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert (tmp_path / "one" / "d" / "metadata" / "latest").is_dir()
    assert (tmp_path / "two" / "d" / "metadata" / "latest").is_dir()


def test_help_lists_the_commands_and_version_prints_the_installed_one(tmp_path: Path) -> None:
    env = env_for(tmp_path, tmp_path / "extern")
    helped = run(["--help"], env)
    assert helped.returncode == 0
    text = helped.stdout.decode()
    assert "shell" in text and "demo" in text and "--version" in text
    shown = run(["--version"], env)
    assert (shown.returncode, shown.stdout.decode(), shown.stderr) == (0, f"rewrap {version('rewrap')}\n", b"")


def test_sql_flags_do_not_go_with_a_command(tmp_path: Path) -> None:
    p = run(["-e", "SHOW BACKUPS IN 'x'", "shell"], env_for(tmp_path, tmp_path / "extern"))
    assert p.returncode == 2 and b"do not go with `shell`" in p.stderr


def test_an_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    p = run(["sheel"], env_for(tmp_path, tmp_path / "extern"))
    assert p.returncode == 2 and b"invalid choice: 'sheel'" in p.stderr


# -- precedence: flag > environment > default ----------------------------------------------------


def test_defaults_when_nothing_is_given(tmp_path: Path) -> None:
    s = settings_of([], {"REWRAP_DATA_DIR": str(tmp_path)})
    assert s.engine.storage.external_io_dir == tmp_path / "extern"
    assert (s.engine.limits.kms_timeout, s.engine.limits.storage_timeout) == (DEFAULT_KMS_TIMEOUT, DEFAULT_STORAGE_TIMEOUT)
    assert (s.engine.concurrency, s.engine.dry_run, s.collections) == (8, False, ())


def test_state_files_follow_the_data_dir_and_the_audit_log_variable(tmp_path: Path) -> None:
    s = settings_of([], {"REWRAP_DATA_DIR": str(tmp_path)})
    assert (s.history_path, s.collections_path, s.audit_log) == (
        tmp_path / "history", tmp_path / "collections.json", tmp_path / "audit.jsonl")
    moved = settings_of([], {"REWRAP_DATA_DIR": str(tmp_path), "REWRAP_AUDIT_LOG": "/var/log/rw.jsonl"})
    assert moved.audit_log == Path("/var/log/rw.jsonl")


def test_environment_over_defaults() -> None:
    env = {"REWRAP_EXTERNAL_IO_DIR": "/from/env", "REWRAP_KMS_TIMEOUT": "4", "REWRAP_STORAGE_TIMEOUT": "5",
           "REWRAP_TEST_GCS_ENDPOINT": "http://127.0.0.1:9", "REWRAP_TEST_GCP_KMS_ENDPOINT": "127.0.0.1:8"}
    s = settings_of([], env)
    assert s.engine.storage.external_io_dir == Path("/from/env")
    assert (s.engine.limits.kms_timeout, s.engine.limits.storage_timeout) == (4.0, 5.0)
    assert s.engine.storage.gcs_endpoint == "http://127.0.0.1:9"
    assert s.kms_env.gcp_kms_endpoint == "127.0.0.1:8"


def test_flags_over_environment(tmp_path: Path) -> None:
    env = {"REWRAP_EXTERNAL_IO_DIR": "/from/env", "REWRAP_KMS_TIMEOUT": "not a number", "REWRAP_STORAGE_TIMEOUT": "5"}
    s = settings_of(["--external-io-dir", str(tmp_path), "--kms-timeout", "2.5", "--storage-timeout", "7"], env)
    assert s.engine.storage.external_io_dir == tmp_path.resolve()
    assert (s.engine.limits.kms_timeout, s.engine.limits.storage_timeout) == (2.5, 7.0)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {"REWRAP_KMS_TIMEOUT": "soon"}, "REWRAP_KMS_TIMEOUT must be a number of seconds, not 'soon'"),
        ([], {"REWRAP_STORAGE_TIMEOUT": "-1"}, "REWRAP_STORAGE_TIMEOUT must be more than 0 seconds"),
        (["--kms-timeout", "inf"], {}, "--kms-timeout must be more than 0 seconds"),
        (["--concurrency", "257"], {}, "--concurrency must be between 1 and 256, not 257"),
        (["--external-io-dir", "a\0b"], {}, "--external-io-dir: a path cannot hold a NUL byte"),
    ],
)
def test_a_bad_value_is_named(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match="^" + message.replace("(", r"\(")):
        settings_of(argv, env)


def test_a_bad_variable_is_a_usage_error_of_the_command(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    p = run(["-e", f"SHOW BACKUPS IN '{COLL}'"], env_for(tmp_path, io_dir, REWRAP_STORAGE_TIMEOUT="0"))
    assert p.returncode == 2
    assert p.stderr.decode() == "rewrap: REWRAP_STORAGE_TIMEOUT must be more than 0 seconds, not '0'\n"


# -- main() reads the environment and writes none of it ------------------------------------------


def test_main_never_writes_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    io_dir = demo_io_dir(tmp_path)
    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REWRAP_EXTERNAL_IO_DIR", raising=False)
    before = dict(os.environ)
    try:
        rc = main(["--external-io-dir", str(io_dir), "--kms-timeout", "3", "--format", "tsv",
                   "-e", f"SHOW BACKUPS IN '{COLL}'"])
        assert limits().kms_timeout == 3.0  # the settings' limits are the ones in force
    finally:
        set_limits(None)
    assert rc == 0, capsys.readouterr().err
    assert capsys.readouterr().out.count("\n/2026/11/") == 3
    assert dict(os.environ) == before
    rc = main(["--external-io-dir", str(tmp_path / "x"), "demo", "nodelocal://self/d", "--seed", "2"])
    set_limits(None)
    assert rc == 0
    assert (tmp_path / "x" / "d" / "metadata" / "latest").is_dir()
    assert dict(os.environ) == before


def test_the_engine_does_not_read_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only tui.settings.load_settings reads REWRAP_*: an Executor made without settings uses the
    engine's defaults, whatever the environment says."""
    from engine.execute import Executor

    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(tmp_path / "env-dir"))
    monkeypatch.setenv("REWRAP_TEST_GCS_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("REWRAP_TEST_GCP_KMS_ENDPOINT", "127.0.0.1:1")
    monkeypatch.setenv("REWRAP_KMS_TIMEOUT", "1")
    ex = Executor()
    assert ex.storage_settings.external_io_dir != tmp_path / "env-dir"
    assert ex.storage_settings.gcs_endpoint is None and ex.kms_env.gcp_kms_endpoint is None
    assert limits().kms_timeout == DEFAULT_KMS_TIMEOUT
    from_env = load_settings()  # the one reader, when asked
    assert from_env.engine.storage.external_io_dir == tmp_path / "env-dir"
    assert from_env.kms_env.gcp_kms_endpoint == "127.0.0.1:1"


def test_run_batch_takes_the_settings_it_is_given(tmp_path: Path) -> None:
    from tui.batch.runner import run_batch
    from tui.settings import Settings
    from engine.settings import EngineSettings, StorageSettings

    io_dir = demo_io_dir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    settings = Settings(engine=EngineSettings(storage=StorageSettings(external_io_dir=io_dir)))
    rc = run_batch(f"SHOW BACKUPS IN '{COLL}'", fmt="csv", out=out, err=err, settings=settings)
    assert rc == 0, err.getvalue()
    assert out.getvalue().splitlines()[0] == "path" and len(out.getvalue().splitlines()) == 4


def test_the_console_gets_the_settings(tmp_path: Path) -> None:
    """run_app's settings reach the app's executor and browser (no environment in between)."""
    from tui.app.main import RewrapApp

    s = settings_of(["--external-io-dir", str(tmp_path), "--dry-run", "--collection", "nodelocal://self/c"])
    app = RewrapApp(settings=s, collections=s.collections, demo=False)
    ex = app.executor_factory(False)
    assert ex.storage_settings.external_io_dir == tmp_path.resolve()
    app._open_storage("nodelocal://self/c").write_new("probe", b"1")  # the browser's storages too
    assert (tmp_path / "c" / "probe").read_bytes() == b"1"
    assert app.initial == ["nodelocal://self/c"]


def test_shell_command_subprocess_order(tmp_path: Path) -> None:
    """Without a terminal `rewrap shell` says so (exit 2), with its options on either side."""
    env = env_for(tmp_path, tmp_path / "extern")
    for argv in (["--external-io-dir", str(tmp_path), "shell"], ["shell", "--external-io-dir", str(tmp_path)]):
        p = subprocess.run([REWRAP, *argv], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 2 and b"rewrap shell needs a terminal" in p.stderr, p.stderr
