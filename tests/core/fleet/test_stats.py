"""Stats buckets: a report's work lands in the minutes it arrived in, whenever it is reported."""
from __future__ import annotations

from pynamodb.transactions import TransactWrite

from chalicelib.core.fleet import stats
from chalicelib.core.store import TOTALS_T, StatBucket, connection

MINUTE = 1_800_000_000 // 60 * 60  # a bucket's start


def add(now: float, span_s: float, **sums: float) -> None:
    with TransactWrite(connection=connection()) as tx:
        stats.add_to_buckets(tx, ["e#1"], now, span_s=span_s, worker_id=7, **sums)


def buckets() -> dict[int, StatBucket]:
    return {int(b.t): b for b in StatBucket.query("e#1")}


def test_a_reports_work_is_shared_by_the_minutes_its_span_covers(aws):
    add(MINUTE + 4, 10.0, work=100.0, capacity_s=120.0, reqs=5)  # arrived from 6 s before the minute
    rows = buckets()
    assert (rows[MINUTE - 60].work, rows[MINUTE].work) == (60.0, 40.0)
    assert (rows[MINUTE - 60].capacity_s, rows[MINUTE].capacity_s) == (72.0, 48.0)
    # Requests are counted when reported; the worker was there in both minutes.
    assert (rows[MINUTE - 60].reqs, rows[MINUTE].reqs, rows[TOTALS_T].reqs) == (0, 5.0, 5.0)
    assert rows[MINUTE - 60].workers == rows[MINUTE].workers == {7}


def test_a_span_within_the_minute_or_a_report_with_nothing_accrued_writes_one_bucket(aws):
    add(MINUTE + 30, 10.0, work=100.0)
    add(MINUTE + 62, 10.0, reqs=3.0)  # nothing before MINUTE + 60 to share
    add(MINUTE + 125, 0.0, work=50.0)  # a first report: its span unknown, all of it now
    assert {t: b.work for t, b in buckets().items() if t != TOTALS_T} == {MINUTE: 100.0, MINUTE + 60: 0,
                                                                          MINUTE + 120: 50.0}


def test_a_span_longer_than_a_minute_puts_all_before_this_minute_in_the_previous_one(aws):
    add(MINUTE + 30, 120.0, work=120.0)
    assert {t: b.work for t, b in buckets().items()} == {MINUTE - 60: 90.0, MINUTE: 30.0}
