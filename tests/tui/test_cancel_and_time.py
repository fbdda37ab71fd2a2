"""Issue 12 item 3: a cancelled ALTER's rows read `cancelled` at once; an abandoned statement's
late output never replaces newer results; the elapsed column and the ETA tick."""

from __future__ import annotations

from tui_support import DEMO_KMS, DEMO_URI, SIZE, Inbox

from engine.rewrap.events import BackupFinished, BackupStarted, Finished, PlanReady, Status, Step, StepStarted

B1, B2, B3 = "/2026/11/24-020012.34", "/2026/11/25-021512.10", "/2026/11/26-020900.77"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def states(pane) -> dict[str, str]:
    return {b: str(pane.table.get_cell(b, "state")) for b in pane.states}


async def test_cancel_marks_rows_at_once_and_a_stopped_call_reads_cancelled(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one("#progress")
        for e in (PlanReady((B1, B2, B3), ("testkms:///new",), (DEMO_KMS,), False, 1),
                  BackupStarted(B1), StepStarted(B1, Step.UNWRAPPING)):
            pane.consume(e)
        pane.cancel_requested()
        await pilot.pause()
        assert states(pane) == {B1: "cancelling…", B2: "cancelled", B3: "cancelled"}
        # The KMS call the cancel abandoned ends the backup as FAILED: it reads cancelled.
        pane.consume(BackupFinished(B1, Status.FAILED, error="KMS call: cancelled", elapsed=0.2))
        for b in (B2, B3):
            pane.consume(BackupFinished(b, Status.CANCELLED, error="cancelled"))
        pane.consume(Finished({"failed": 1, "cancelled": 2}, 0.3, cancelled=True))
        assert set(states(pane).values()) == {"cancelled"}
        assert "3 cancelled" in pane.summary and "failed" not in pane.summary


async def test_an_abandoned_runs_late_output_never_replaces_newer_results(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        app.run_statements([f"SHOW BACKUPS IN '{DEMO_URI}'"])
        await msgs.worker(pilot, "execute")
        table = app.query_one("#results-table")
        assert table.row_count == 3
        late = app.generation - 1  # what a run detached from (second Esc) before this one posts
        app.post_message(app.StatementExecuted(late, "ALTER BACKUP …", ["backup", "status"],
                                               [("/x", "failed")], [], False))
        app.post_message(app.StatementFailed(late, "ALTER BACKUP …", "late"))
        await pilot.pause()
        assert table.row_count == 3 and table.headers == ["path"]
        assert "late" not in str(app.query_one("#results-notices").render())


async def test_detaching_frees_the_session_and_its_finish_is_ignored(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        app.run_statements([f"ALTER BACKUP ALL IN '{DEMO_URI}' ADD NEW_KMS = 'testkms:///n' "
                            f"WITH OLD_KMS = '{DEMO_KMS}'"])
        app.action_cancel_run()
        app.action_cancel_run()  # second press: stop waiting
        assert not app.running
        app.run_statements([f"SHOW BACKUPS IN '{DEMO_URI}'"])
        assert app.running
        await msgs.worker(pilot, "execute", count=2)
        assert not app.running and app.query_one("#results-table").row_count == 3


async def test_elapsed_and_eta_tick(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one("#progress")
        pane.clock = clock = Clock()
        pane.consume(PlanReady((B1, B2, B3), ("testkms:///new",), (DEMO_KMS,), False, 1))
        pane.consume(BackupStarted(B1))
        clock.now += 2
        pane.consume(BackupFinished(B1, Status.ADDED, file="ENCRYPTION-INFO-2", elapsed=2.0))
        pane.consume(BackupStarted(B2))
        clock.now += 1.5
        pane.tick()  # what the pane's interval timer calls every TICK seconds
        await pilot.pause()
        assert str(pane.table.get_cell(B2, "elapsed")) == "1.5s"
        assert pane.summary.startswith("1/3  4s, ETA 7s  adding")  # 3.5 s for 1 of 3: 7 s more


def test_a_cancelled_alters_result_rows_read_cancelled() -> None:
    from engine.execute import Result
    from tui.app.main import as_cancelled, log_lines

    result = Result(["backup", "status", "file", "error"],
                    [(B1, "failed", None, "KMS aws kms Encrypt: cancelled"), (B2, "added", "ENCRYPTION-INFO-2", None),
                     (B3, "cancelled", None, "cancelled")], ok=False)
    shown = as_cancelled(result)
    assert [r[1] for r in shown.rows] == ["cancelled", "added", "cancelled"]
    assert shown.rows[0][3] == "KMS aws kms Encrypt: cancelled"  # the reason stays
    assert not any("failed" in line for line in log_lines(shown))


async def test_esc_in_the_progress_pane_reaches_the_app(make_app) -> None:
    from engine.rewrap.events import CancelToken

    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one("#progress")
        pane.remove_class("-hidden")
        pane.consume(PlanReady((B1,), ("testkms:///new",), (DEMO_KMS,), False, 1))
        app.cancel_token, app.running = (token := CancelToken()), True  # as run_statements leaves them
        pane.query_one("#progress-table").focus()
        await pilot.press("escape")
        assert token.cancelled and states(pane) == {B1: "cancelled"}
