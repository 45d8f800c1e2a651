"""`/api/metrics/`: posting a run's or a pod's metric (JSON or form, two date spellings), and
reading them back: all of them grouped, or one pod's or run's with `since`, `metric_filter`,
`summarize` and `last_n`, in one Query. Pod metrics expire; no account sees another's."""
from __future__ import annotations

import io
import json
import time
import zipfile
from urllib.parse import urlencode

import pytest

from chalicelib.core.bench import metrics
from chalicelib.core.bench.metrics import Owner, Posted
from tests.support.surfaces import DROP
from tests.surfaces.mlbench.conftest import FORM, form
from tests.surfaces.mlbench.routes import POD, ok

SEED_DATE = "2018-08-03T09:21:44.331823Z"


def read(api, key, **query) -> dict:
    return ok(api, "GET", f"/api/metrics/{key}/" + (f"?{urlencode(query)}" if query else ""))


def post_run_points(api, run_id, values, name="acc", start=0):
    for i, value in enumerate(values, start):
        ok(api, "POST", "/api/metrics/", {"run_id": run_id, "name": name, "value": str(value),
                                          "date": f"2020-01-01T00:00:{i:02d}.000000Z"}, 201)


# --- posting --------------------------------------------------------------------------------

def test_a_pod_metric_is_echoed_and_read_back(bench):
    reply = ok(bench.api, "POST", "/api/metrics/", {"pod_name": "p-1", "name": "mem", "value": 3, "date": SEED_DATE,
                                                   "cumulative": True, "metadata": "m"}, 201)
    assert reply == {"pod_name": "p-1", "name": "mem", "date": SEED_DATE, "value": "3", "cumulative": True,
                     "metadata": "m"}
    assert read(bench.api, "p-1") == {"mem": [{"date": SEED_DATE, "value": "3", "cumulative": True}]}


def test_a_run_metric_needs_a_run_of_the_account(bench):
    bench.rejects("post run metric", 404, "not_found", "999999", changes={"run_id": 999_999})


def test_a_form_body_works_like_json_every_field_a_string(bench):
    fields = {"run_id": str(bench.refs["run"]), "name": "loss @ 0", "value": "0.25", "cumulative": "True",
              "metadata": "{rank: 0, epoch:1.5}", "date": "2018-08-03 09:21:44.331823"}
    status, reply = form(bench.api, "POST", "/api/metrics", fields, basic=True)
    assert status == 201, reply
    assert reply == {"run_id": bench.refs["run"], "name": "loss @ 0", "value": "0.25", "cumulative": True,
                     "metadata": "{rank: 0, epoch:1.5}", "date": SEED_DATE}
    status, reply = form(bench.api, "POST", "/api/metrics/", {**fields, "cumulative": "False"})
    assert (status, reply["cumulative"]) == (201, False)


def test_a_metadata_dict_the_client_form_encodes_as_its_keys_keeps_the_last_as_the_reference_does(bench):
    """(requests sends data={"metadata": {"rank": 0, "epoch": 1}} as metadata=rank&metadata=epoch.)"""
    response = bench.api.client.http.post(
        "/api/metrics/", body="pod_name=p&name=x&value=1&metadata=rank&metadata=epoch",
        headers={"Content-Type": FORM, "Authorization": f"Bearer {bench.api.key}"})
    assert response.status_code == 201 and response.json_body["metadata"] == "epoch"


@pytest.mark.parametrize(("sent", "stored"), [
    (SEED_DATE, SEED_DATE),
    ("2018-08-03 09:21:44.331823", SEED_DATE),
    ("2018-08-03 09:21:44", "2018-08-03T09:21:44.000000Z"),
    ("2018-08-03 09:21:44.331823+00:00", SEED_DATE),
    ("2018-08-03 09:21:44+00:00", "2018-08-03T09:21:44.000000Z"),
    ("2018-08-03T09:21:44.5Z", "2018-08-03T09:21:44.500000Z"),
    ("2018-08-03 11:21:44.331823+02:00", SEED_DATE),
])
def test_both_date_spellings_read_as_utc_and_answer_in_the_seed_format(bench, sent, stored):
    assert ok(bench.api, "POST", "/api/metrics/", {"pod_name": "p", "name": "x", "value": "1", "date": sent},
              201)["date"] == stored
    assert read(bench.api, "p")["x"][0]["date"] == stored


BAD_FIELDS = {
    "both pod_name and run_id": ({"pod_name": POD}, "pod_name"),
    "neither": ({"run_id": DROP}, "run_id"),
    "empty pod_name and no run_id": ({"run_id": DROP, "pod_name": ""}, "pod_name"),
    "a pod name with a slash": ({"run_id": DROP, "pod_name": "a/b"}, "pod_name"),
    "a run id that is not a number": ({"run_id": "five"}, "run_id"),
    "no name": ({"name": DROP}, "name"),
    "a date without a time": ({"date": "2018-08-03"}, "date"),
    "a date in words": ({"date": "yesterday"}, "date"),
    "a date not on the calendar": ({"date": "2018-02-30T09:21:44.331823Z"}, "date"),
    "hour 24": ({"date": "2018-08-03 24:00:00"}, "date"),
    "a date as a number": ({"date": 1533288104}, "date"),
    "value abc": ({"value": "abc"}, "value"),
    "value nan": ({"value": "nan"}, "value"),
    "value inf": ({"value": "inf"}, "value"),
    "value -Infinity": ({"value": "-Infinity"}, "value"),
    "value true": ({"value": True}, "value"),
    "value null": ({"value": None}, "value"),
    "no value": ({"value": DROP}, "value"),
    "value a list": ({"value": [1]}, "value"),
    "value in fullwidth digits": ({"value": "\uff11\uff12"}, "value"),
    "value an integer too large for a float": ({"value": 10**400}, "value"),
    "value a number above 1e300": ({"value": 1e301}, "value"),
    "value a string above 1e300": ({"value": "1e301"}, "value"),
    "a date before year 1 in UTC": ({"date": "0001-01-01T00:00:00+01:00"}, "date"),
    "a date after year 9999 in UTC": ({"date": "9999-12-31T23:59:59-01:00"}, "date"),
    "cumulative maybe": ({"cumulative": "maybe"}, "cumulative"),
    "cumulative a number": ({"cumulative": 2}, "cumulative"),
    "metadata a number": ({"metadata": 5}, "metadata"),
}
NOT_TEXT = {"metadata with a NUL": ({"metadata": "a\x00b"}, "metadata"),
            "metadata a lone surrogate": ({"metadata": "\ud800"}, "metadata")}


@pytest.mark.parametrize(("changes", "field"), NOT_TEXT.values(), ids=NOT_TEXT)
def test_a_string_that_is_no_text_is_a_400_that_says_why(bench, changes, field):
    bench.rejects("post run metric", names="without NUL", changes=changes)


@pytest.mark.parametrize(("changes", "field"), BAD_FIELDS.values(), ids=BAD_FIELDS)
def test_a_bad_field_is_a_400_naming_it_and_stores_nothing(bench, changes, field):
    bench.rejects("post run metric", names=f"'{field}'", changes=changes)


@pytest.mark.parametrize(("raw", "names"), [
    (b"name=x&name=y&pod_name=p&value=1", "'name'"),
    (b"\xff\xfe", "form"),
    (b"pod_name=p&value=1", "'name'"),
    (b"pod_name=p&name=x&value=nan", "'value'"),
    (b"run_id=1&pod_name=p&name=x&value=1", "pod_name"),
], ids=["a field twice", "not UTF-8", "no name", "value nan", "both"])
def test_a_junk_form_is_a_400_and_stores_nothing(bench, raw, names):
    bench.rejects("post pod metric", raw=raw, api=bench.api.saying(FORM), names=names)


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"x"', b"null", b"pod_name=p&name=x&value=1"])
def test_a_junk_json_body_is_a_400_naming_json(bench, raw):
    bench.rejects("post pod metric", raw=raw, names="JSON")


# --- reading one pod's or run's ---------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ({"metric_type": "job"}, "metric_type"), ({"metric_type": "RUN"}, "metric_type"),
    ({"since": "last week"}, "since"), ({"since": "2018-13-01 00:00:00"}, "since"),
    *[({name: value}, name) for name in ("last_n", "summarize") for value in ("0", "-1", "1.5", "abc", "")],
])
def test_a_bad_query_parameter_is_a_400_naming_it(bench, query, field):
    bench.rejects("pod metrics", names=f"'{field}'", path=f"/api/metrics/{POD}/?{urlencode(query)}")


def test_a_run_key_that_is_not_a_run_id_is_a_400(bench):
    bench.rejects("pod metrics", names="'run_id'", path="/api/metrics/abc/?metric_type=run")


def test_pod_is_the_default_metric_type(bench):
    assert read(bench.api, POD) == read(bench.api, POD, metric_type="pod") == {"cpu": [
        {"date": "2099-01-01T00:00:00.000000Z", "value": "12.5", "cumulative": False},
        {"date": "2099-01-01T00:00:01.000000Z", "value": "40", "cumulative": False}]}


def test_a_runs_metrics_are_sorted_by_date_whatever_the_order_posted(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [3], start=5)
    post_run_points(bench.api, run, [1, 2])
    assert [e["value"] for e in read(bench.api, run, metric_type="run")["acc"]] == ["1", "2", "3"]


def test_since_keeps_points_at_or_after_it_in_either_spelling(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [1, 2, 3, 4])
    for since in ("2020-01-01T00:00:02.000000Z", "2020-01-01 00:00:02", "2020-01-01 00:00:02+00:00"):
        assert [e["value"] for e in read(bench.api, run, metric_type="run", since=since)["acc"]] == ["3", "4"]


def test_dates_before_year_1000_keep_four_digits_and_sort_before_later_ones(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [2])
    ok(bench.api, "POST", "/api/metrics/", {"run_id": run, "name": "acc", "value": "1",
                                            "date": "0500-01-01T00:00:00Z"}, 201)
    since = "0001-01-01T00:00:00Z"  # the default is the seed's 1970-01-01
    assert [e["date"] for e in read(bench.api, run, metric_type="run", since=since)["acc"]] == [
        "0500-01-01T00:00:00.000000Z", "2020-01-01T00:00:00.000000Z"]
    assert [e["value"] for e in read(bench.api, run, metric_type="run", since=since, last_n=1)["acc"]] == ["2"]
    assert [e["value"] for e in read(bench.api, run, metric_type="run", since="0999-01-01T00:00:00Z")["acc"]] == ["2"]


def test_a_value_too_large_names_its_limit(bench):
    status, reply = bench.api.call("POST", "/api/metrics/", {"pod_name": "p", "name": "x", "value": 1e301})
    assert status == 400 and "at most 1e+300" in reply["message"], reply


def test_metric_filter_is_one_exact_name(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [1], name="loss @ 0")
    assert set(read(bench.api, run, metric_type="run")) == {"loss", "loss @ 0"}
    assert set(read(bench.api, run, metric_type="run", metric_filter="loss @ 0")) == {"loss @ 0"}
    assert read(bench.api, run, metric_type="run", metric_filter="los") == {}


def test_last_n_is_the_latest_points(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [1, 2, 3])
    assert [e["value"] for e in read(bench.api, run, metric_type="run", last_n=1)["acc"]] == ["3"]
    assert [e["value"] for e in read(bench.api, run, metric_type="run", last_n=9)["acc"]] == ["1", "2", "3"]


def test_summarize_averages_buckets_dated_by_their_first_point_dropping_a_partial_last_one(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [1, 2, 3, 4, 5])  # buckets of ceil(5/2) = 3: [1, 2, 3], then [4, 5] dropped
    assert read(bench.api, run, metric_type="run", summarize=2)["acc"] == [
        {"date": "2020-01-01T00:00:00.000000Z", "value": "2.0", "cumulative": False}]
    as_posted = read(bench.api, run, metric_type="run", summarize=5)["acc"]  # no more points than asked: as posted
    assert [e["value"] for e in as_posted] == ["1", "2", "3", "4", "5"]


def test_last_n_applies_after_summarize(bench):
    run = bench.refs["run"]
    post_run_points(bench.api, run, [1, 2, 3, 4, 5, 6])  # summarize=3: [1.5, 3.5, 5.5]
    assert read(bench.api, run, metric_type="run", summarize=3, last_n=1)["acc"] == [
        {"date": "2020-01-01T00:00:04.000000Z", "value": "5.5", "cumulative": False}]


def test_all_metrics_are_grouped_by_pod_and_by_run(bench):
    reply = ok(bench.api, "GET", "/api/metrics/")
    assert set(reply) == {"pod_metrics", "run_metrics"}
    assert [p["value"] for p in reply["pod_metrics"][POD]["cpu"]] == ["12.5", "40"]
    assert [p["value"] for p in reply["run_metrics"][str(bench.refs["run"])]["loss"]] == ["0.9", "0.7"]
    assert reply["pod_metrics"][POD]["cpu"][0] == {"name": "cpu", "date": "2099-01-01T00:00:00.000000Z",
                                                   "value": "12.5", "cumulative": False, "metadata": ""}


# --- retention ----------------------------------------------------------------------------------

def test_pod_metrics_expire_after_the_retention_and_run_metrics_do_not(bench, monkeypatch):
    monkeypatch.setenv("POD_METRICS_RETENTION_DAYS", "1")
    account, then = bench.api.account_id, time.time() - 2 * 86400
    metrics.post(account, Owner("pod", "old-pod"), Posted("cpu", "2020-01-01T00:00:00.000000Z", "1"), now=then)
    metrics.post(account, Owner("run", bench.refs["run"]), Posted("old", "2020-01-01T00:00:00.000000Z", "1"),
                 now=then)
    assert read(bench.api, "old-pod") == {}
    assert "old-pod" not in ok(bench.api, "GET", "/api/metrics/")["pod_metrics"]
    assert "old" in read(bench.api, bench.refs["run"], metric_type="run")
    fresh = Owner("pod", "new-pod")
    metrics.post(account, fresh, Posted("cpu", "2020-01-01T00:00:00.000000Z", "1"), now=then)
    assert metrics.read(account, fresh, metrics.Filters(), now=then + 3600) != {}  # within the day
    assert metrics.read(account, fresh, metrics.Filters(), now=then + 86400 + 1) == {}


# --- isolation ----------------------------------------------------------------------------------

def test_the_same_pod_name_in_two_accounts_is_two_pods(bench, other_api):
    ok(other_api, "POST", "/api/metrics/", {"pod_name": POD, "name": "cpu", "value": "99",
                                           "date": "2099-01-01T00:00:05.000000Z"}, 201)
    assert [e["value"] for e in read(bench.api, POD)["cpu"]] == ["12.5", "40"]
    assert [e["value"] for e in read(other_api, POD)["cpu"]] == ["99"]
    assert ok(other_api, "GET", "/api/metrics/") == {"pod_metrics": {POD: {"cpu": [
        {"name": "cpu", "date": "2099-01-01T00:00:05.000000Z", "value": "99", "cumulative": False,
         "metadata": ""}]}}, "run_metrics": {}}


def test_another_accounts_run_metrics_are_never_seen_nor_added_to(bench, other_api):
    run = bench.refs["run"]
    assert read(other_api, run, metric_type="run") == {}
    status, reply = other_api.call("POST", "/api/metrics/", {"run_id": run, "name": "x", "value": "1"})
    assert (status, reply["code"]) == (404, "not_found")
    assert set(read(bench.api, run, metric_type="run")) == {"loss"}


# --- DynamoDB requests --------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    {}, {"metric_type": "run"}, {"metric_type": "run", "since": "2018-08-03 09:21:41", "metric_filter": "loss",
                                 "summarize": "1", "last_n": "1"}])
def test_a_metrics_read_is_the_key_and_one_query_whatever_else_is_stored(bench, dynamodb_calls, query):
    """(A run's metrics found, one more GetItem: that the run is still there.)"""
    run = query.get("metric_type") == "run"
    dynamodb_calls.clear()
    assert read(bench.api, bench.refs["run"] if run else POD, **query)
    assert dict(dynamodb_calls) == {"GetItem": 2 if run else 1, "Query": 1}


def test_a_pod_metric_post_is_the_key_and_one_put(bench, dynamodb_calls):
    dynamodb_calls.clear()
    ok(bench.api, "POST", "/api/metrics/", {"pod_name": "p", "name": "x", "value": "1"}, 201)
    assert dict(dynamodb_calls) == {"GetItem": 1, "PutItem": 1}


def test_a_run_metric_post_is_the_key_and_one_transaction(bench, dynamodb_calls):
    dynamodb_calls.clear()
    ok(bench.api, "POST", "/api/metrics/", {"run_id": bench.refs["run"], "name": "x", "value": "1"}, 201)
    assert dict(dynamodb_calls) == {"GetItem": 1, "TransactWriteItems": 1}


def test_format_zip_downloads_the_metrics_as_the_reference_dashboard_zips_them(bench):
    """(mlbench-core's download_run_metrics adds format=zip, and requests' Accept: */*; its CLI
    writes the body to results.zip.)"""
    run = bench.refs["run"]
    response = bench.api.client.http.get(f"/api/metrics/{run}/?metric_type=run&format=zip",
                                         headers={"Authorization": f"Bearer {bench.api.key}", "Accept": "*/*"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="metrics_done.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    assert {name: json.loads(archive.read(name)) for name in archive.namelist()} == {
        f"result_{name}.json": entries for name, entries in read(bench.api, run, metric_type="run").items()}


def test_format_zip_gives_each_metric_a_file_of_its_own(bench):
    """(Names a file cannot hold, or too long for one, are written with a hash of the name.)"""
    run = bench.refs["run"]
    names = ["acc (%)", "acc [%]", "x" * 100 + "_train", "x" * 100 + "_valid", "plain"]
    for value, name in enumerate(names):
        ok(bench.api, "POST", "/api/metrics/", {"run_id": run, "name": name, "value": value}, 201)
    response = bench.api.client.http.get(f"/api/metrics/{run}/?metric_type=run&format=zip",
                                         headers={"Authorization": f"Bearer {bench.api.key}", "Accept": "*/*"})
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    files = archive.namelist()
    assert len(files) == len(set(files)) == len(read(bench.api, run, metric_type="run"))
    assert "result_plain.json" in files and all(len(f) <= 120 for f in files)
    values = {float(e["value"]) for f in files for e in json.loads(archive.read(f))}
    assert set(range(len(names))) <= values


def test_a_format_other_than_json_or_zip_is_a_400_naming_it(bench):
    status, reply = bench.api.call("GET", f"/api/metrics/{bench.refs['run']}/?metric_type=run&format=xml")
    assert status == 400 and "'format'" in reply["message"], reply
