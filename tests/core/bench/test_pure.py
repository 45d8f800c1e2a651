"""The pure parts of MLBench: summarizing a series, the API's date, and the wire's readings of
dates, numbers and flags (a 400 naming the field for anything else)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.core.bench.metrics import summarize
from chalicelib.core.bench.runs import format_date
from chalicelib.core.errors import ApiError
from chalicelib.surfaces.mlbench import wire


def points(*values):
    return [{"date": f"d{i}", "value": str(v), "cumulative": i == 0} for i, v in enumerate(values)]


# --- summarize --------------------------------------------------------------------------------

def test_summarize_nothing_is_nothing():
    assert summarize([], 3) == []


def test_summarize_into_as_many_points_as_there_are_is_each_point_averaged_alone():
    assert [p["value"] for p in summarize(points(1, 2, 3), 3)] == ["1.0", "2.0", "3.0"]
    assert [p["value"] for p in summarize(points(1, 2, 3), 10)] == ["1.0", "2.0", "3.0"]


def test_summarize_buckets_are_ceil_count_over_n_dated_by_their_first_point():
    assert summarize(points(1, 2, 3, 4, 5, 6), 2) == [{"date": "d0", "value": "2.0", "cumulative": True},
                                                      {"date": "d3", "value": "5.0", "cumulative": False}]


def test_summarize_drops_a_partial_last_bucket():
    assert [p["value"] for p in summarize(points(1, 2, 3, 4, 5), 2)] == ["2.0"]  # [1,2,3]; [4,5] dropped
    assert [p["value"] for p in summarize(points(1, 2, 3, 4, 5, 6, 7), 3)] == ["2.0", "5.0"]


def test_summarize_into_one_point_is_the_mean():
    assert summarize(points(1, 2, 6), 1) == [{"date": "d0", "value": "3.0", "cumulative": True}]


# --- format_date ------------------------------------------------------------------------------

def test_format_date_is_utc_with_six_digits_and_z():
    assert format_date(0) == "1970-01-01T00:00:00.000000Z"
    assert format_date(1533288104.331823) == "2018-08-03T09:21:44.331823Z"


def test_format_date_converts_an_aware_datetime_to_utc():
    moment = datetime(2018, 8, 3, 11, 21, 44, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_date(moment) == "2018-08-03T09:21:44.000005Z"
    assert format_date(datetime(2018, 8, 3, 9, 21, 44, tzinfo=UTC)) == "2018-08-03T09:21:44.000000Z"


# --- wire.date ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "read"), [
    ("2018-08-03T09:21:44.331823Z", "2018-08-03T09:21:44.331823Z"),
    ("2018-08-03 09:21:44.331823", "2018-08-03T09:21:44.331823Z"),
    ("2018-08-03 09:21:44", "2018-08-03T09:21:44.000000Z"),
    ("2018-08-03 09:21:44+00:00", "2018-08-03T09:21:44.000000Z"),
    ("2018-08-03 09:21:44.1-01:00", "2018-08-03T10:21:44.100000Z"),
    (str(datetime(2018, 8, 3, 9, 21, 44, 7)), "2018-08-03T09:21:44.000007Z"),
])
def test_date_reads_both_spellings_as_utc(sent, read):
    assert wire.date(sent, "date") == read


@pytest.mark.parametrize("value", ["2018-08-03", "2018-02-30 00:00:00", "2018-08-03 25:00:00", "now", "", None,
                                   1533288104, "2018-08-03T09:21:44.1234567Z", "2018-08-03 09:21:44 UTC"])
def test_date_refuses_anything_else_naming_the_field(value):
    with pytest.raises(ApiError) as raised:
        wire.date(value, "since")
    assert raised.value.status == 400 and "'since'" in raised.value.message


# --- wire.numeric -------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "read"), [(1, "1"), (0.5, "0.5"), ("0.25", "0.25"), (" -3 ", "-3"),
                                             ("1e-3", "1e-3"), (".5", ".5")])
def test_numeric_is_a_numeric_string(value, read):
    assert wire.numeric(value, "value") == read


@pytest.mark.parametrize("value", ["abc", "nan", "NaN", "inf", "-Infinity", "1e999", True, False, None, "", [1],
                                   float("nan"), float("inf"), "0x10", "1_000"])
def test_numeric_refuses_anything_else_naming_the_field(value):
    with pytest.raises(ApiError) as raised:
        wire.numeric(value, "value")
    assert raised.value.status == 400 and "'value'" in raised.value.message


# --- wire.flag ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "read"), [(True, True), (False, False), ("True", True), ("False", False),
                                             ("true", True), ("false", False), ("1", True), ("0", False)])
def test_flag_reads_json_and_form_spellings(value, read):
    assert wire.flag(value, "cumulative") is read


def test_flag_missing_is_the_default():
    assert wire.flag(None, "cumulative") is False and wire.flag(None, "cumulative", default=True) is True


@pytest.mark.parametrize("value", ["yes", "", 1, 0, 2.0, [True], {}])
def test_flag_refuses_anything_else_naming_the_field(value):
    with pytest.raises(ApiError) as raised:
        wire.flag(value, "cumulative")
    assert raised.value.status == 400 and "'cumulative'" in raised.value.message
