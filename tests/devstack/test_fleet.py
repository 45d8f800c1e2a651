"""What `make run` prints after its banner: one short human line per scaling decision and per
error, the JSON logs and metrics going to the state dir's logs instead (the fast specs; the
stack itself is in tests/e2e/test_devstack.py)."""
from __future__ import annotations

import io
import json
import threading
import time

from chalicelib.core.observability import logger
from chalicelib.core.store import Event
from chalicelib.scaling import scheduler
from chalicelib.scaling.scale_group import Outcome
from devstack import fleet
from devstack.stack import api_error, follow, human_line

T = 1_700_000_000.0
CLOCK = time.strftime("%H:%M:%S", time.localtime(T))


def decision(action: str, outcome: str = "ok", reason: str = "queue of 3.2 s, over the 10 s target") -> Event:
    return Event(1, "k", endpoint_id=7, t=T, action=action, reason=reason, outcome=outcome, worker_id=3)


def test_a_line_is_the_time_the_source_and_what_happened():
    assert human_line("scaler", "x", T) == f"{CLOCK}  scaler  x"
    assert human_line("api", "error: y", T) == f"{CLOCK}  api     error: y"


def test_a_pass_reads_as_one_line_per_decision_and_per_error():
    report = scheduler.PassReport(outcomes=[
        Outcome(1, decisions=[decision("pass", reason="nothing to do"), decision("launch"),
                              decision("destroy", "failed: offline", "idle")]),
        Outcome(2, error="ValueError: bad row"),
    ], error="the provider refused the API key")
    assert fleet.pass_lines(report, {7: "demo"}, now=T) == [
        f"{CLOCK}  scaler  error: the provider refused the API key",
        f"{CLOCK}  scaler  demo/group 1: launch -> ok (queue of 3.2 s, over the 10 s target)",
        f"{CLOCK}  scaler  demo/group 1: destroy -> failed: offline (idle)",
        f"{CLOCK}  scaler  error: group 2: ValueError: bad row",
    ]
    assert fleet.pass_lines(report, {}, now=T)[1].startswith(f"{CLOCK}  scaler  endpoint 7/group 1: launch")
    assert fleet.pass_lines(scheduler.PassReport(), {}) == []


def log_line(**fields) -> str:
    return json.dumps({"level": "INFO", "location": "handle_request:27", "message": "request",
                       "timestamp": "2026-01-01 18:03:12,000+0000", "service": "gpu-control-plane", **fields})


def test_the_api_errors_are_picked_out_of_its_log_and_nothing_else():
    assert api_error(log_line(method="GET", path="/pubkey", status=200, ms=1.0)) is None
    assert api_error(log_line(method="POST", path="/route", status=500, ms=1.0)) == "POST /route answered 500"
    assert api_error(log_line(level="ERROR", message="scaling a group failed", exception_name="KeyError",
                              exception="Traceback ...", authorization="Bearer secret")) == \
        "scaling a group failed (KeyError)"
    assert api_error(log_line(level="CRITICAL", message="down")) == "down"
    assert api_error(log_line(level="WARNING", message="slow")) is None
    failed = '127.0.0.1 - - [01/Jan/2026 18:03:12] request failed outside the app:'
    assert api_error(failed) == "request failed outside the app: it answered 500"
    for other in ('127.0.0.1 - - [01/Jan/2026 18:03:12] "POST /route/?api_key=k HTTP/1.1" 500 -',
                  "Traceback (most recent call last):", '{"not json', "[1, 2]", '{"status": true, "level": 5}', ""):
        assert api_error(other) is None, other


def test_the_follower_sees_whole_lines_appended_after_its_start(tmp_path):
    log, seen, stopping = tmp_path / "api.log", [], threading.Event()
    log.write_text("before\n")
    follower = threading.Thread(target=follow, args=(log, log.stat().st_size, seen.append, stopping, 0.01))
    follower.start()
    try:
        with open(log, "a") as out:
            out.write("one\ntw")
            out.flush()
            time.sleep(0.1)
            out.write("o\n")
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stopping.set()
        follower.join(5)
    assert seen == ["one", "two"]


def test_a_pass_logs_and_prints_metrics_to_the_scaler_log_and_its_decisions_to_the_terminal(tmp_path, monkeypatch):
    def run_pass(provider, endpoint=None):
        print('{"_aws": "a metric"}')
        logger.info("scaling pass")
        return scheduler.PassReport(outcomes=[Outcome(1, decisions=[decision("launch")])])

    monkeypatch.setattr(fleet.providers, "from_settings", lambda: object())
    monkeypatch.setattr(fleet.scheduler, "run_pass", run_pass)
    terminal, stream = io.StringIO(), logger.registered_handler.stream
    timer = fleet.ScaleTimer(0.05, log_dir=tmp_path / "logs", terminal=terminal)
    timer.names[7] = "demo"
    try:
        timer.start()
        deadline = time.monotonic() + 5
        while "launch" not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        timer.stop()
    finally:
        logger.registered_handler.setStream(stream)
    assert terminal.getvalue().startswith(f"{CLOCK}  scaler  demo/group 1: launch -> ok (")
    assert "{" not in terminal.getvalue()
    written = (tmp_path / "logs" / "scaler.log").read_text().splitlines()
    assert '{"_aws": "a metric"}' in written and any(json.loads(w).get("message") == "scaling pass" for w in written)
