"""The serving registry's arithmetic, by hand on two containers: chart buckets, per-instance and
total aggregation, units, rounding; endpoint listing, details and loading instances."""
from __future__ import annotations

import pytest

from chalicelib.core.serving.charts import (
    METRICS,
    MIN_INTERVAL_S,
    Sample,
    endpoint_details,
    endpoint_stats,
    iso_utc,
    loading_instances,
    metrics_history,
)

T0 = 1000.0  # from_date
A_STATS_1 = {"cpu_usage": [50.0], "memory_used": 1024, "memory_free": 3072, "network_rx": 1.5}
A_STATS_2 = {"cpu_usage": [70.0], "memory_used": 2048, "memory_free": 2048, "network_rx": 2.5}
B_STATS = {"cpu_usage": [10.0, 30.0], "gpu_usage": [80.0], "gpu_memory_used": [512], "gpu_memory_free": [1536],
           "memory_used": 512, "memory_free": 512}

# Interval 10 is raised to 40: buckets [1000,1040) [1040,1080) [1080,1120); [1120,1160) ends after
# to_date 1130 and is dropped. Samples of b before from_date or in the dropped bucket are ignored.
SAMPLES = [
    Sample("b", 999, requests_num=1, latency_ms=99.0, machine_stats=B_STATS),
    Sample("b", 1010, requests_num=5, requests_min=2, latency_ms=30.1, machine_stats=B_STATS),
    Sample("b", 1045, requests_num=7, requests_min=2, latency_ms=31.0, machine_stats=B_STATS),
    Sample("b", 1125, requests_num=100, latency_ms=99.0, machine_stats=B_STATS),
    Sample("a", 1000, requests_num=10, requests_min=1, latency_ms=12.4, machine_stats=A_STATS_1),
    Sample("a", 1030, requests_num=16, requests_min=2, latency_ms=13.0, machine_stats=A_STATS_2),
    Sample("a", 1039.9, requests_num=None, requests_min=2, latency_ms=None, machine_stats=None),
    Sample("a", 1090, requests_num=30, latency_ms=20.3333, machine_stats=A_STATS_1),
    Sample("c", 1125, requests_num=3, latency_ms=5.0),  # only in the dropped bucket: no instance chart
]


def chart(metric: str, interval: int = 10, to_date: float = 1130, samples=SAMPLES, **kw) -> dict:
    return metrics_history(samples, T0, to_date, interval, metric, **kw)


def values(data: dict) -> tuple[list, dict]:
    return data["total"]["values"], {cid: s["values"] for cid, s in data["instances"].items()}


def test_the_schema_has_fifteen_metrics_each_titled_as_the_reference_names_them():
    assert len(METRICS) == 15
    assert METRICS["requests"].title == "Number of Requests"
    assert METRICS["gpu_ram_free"].title == "GPU RAM Free (GB)"
    assert METRICS["network_tx"].title == "Network Throughput TX (MBps)"


def test_buckets_start_at_from_date_and_the_incomplete_last_one_is_dropped():
    data = chart("requests")
    assert data["computed_interval"] == MIN_INTERVAL_S == 40
    assert data["total"]["dates"] == [1000, 1040, 1080]
    assert chart("requests", to_date=1120)["total"]["dates"] == [1000, 1040, 1080]  # ends exactly at to_date
    assert chart("requests", to_date=1119)["total"]["dates"] == [1000, 1040]
    assert data["total"]["title"] == "Number of Requests"
    assert {cid: s["title"] for cid, s in data["instances"].items()} == {"a": "a", "b": "b"}
    assert all(s["dates"] == [1000, 1040, 1080] for s in data["instances"].values())


def test_requests_take_the_max_in_a_bucket_and_sum_over_instances_an_empty_bucket_holds_0():
    total, inst = values(chart("requests"))
    # a: max(10, 16) = 16 (the null reading at 1039.9 skipped), nothing, 30;  b: 5, 7, nothing
    assert inst == {"a": [16, 0, 30], "b": [5, 7, 0]}
    assert total == [16 + 5, 7, 30]


def test_an_interval_above_the_floor_is_kept():
    data = chart("requests", interval=60)
    # [1000,1060) [1060,1120); [1120,1180) ends after 1130: a max(10,16)=16, 30; b max(5,7)=7, nothing
    assert data["computed_interval"] == 60 and data["total"]["dates"] == [1000, 1060]
    assert values(data) == ([23, 30], {"a": [16, 30], "b": [7, 0]})


def test_latency_is_a_mean_in_a_bucket_and_over_the_instances_with_a_value_rounded_to_2_decimals():
    total, inst = values(chart("latency_ms"))
    # a: (12.4 + 13.0) / 2 = 12.7, nothing, 20.3333 -> 20.33;  b: 30.1, 31.0, nothing
    assert inst == {"a": [12.7, 0, 20.33], "b": [30.1, 31.0, 0]}
    # total: (12.7 + 30.1) / 2 = 21.4; only b: 31.0; only a: 20.33 (an instance without a value is not a 0)
    assert total == [21.4, 31.0, 20.33]


def test_requests_per_minute_is_a_mean_per_instance_and_a_sum_over_instances():
    total, inst = values(chart("requests_min"))
    # a: (1 + 2 + 2) / 3 = 1.666.. -> 1.67;  b: 2, 2;  total 1.666.. + 2 = 3.666.. -> 3.67
    assert inst == {"a": [1.67, 0, 0], "b": [2, 2, 0]}
    assert total == [3.67, 2, 0]


def test_ram_is_reported_in_gb_and_summed_over_instances():
    # a: used (1024 + 2048) / 2 / 1024 = 1.5 GB, then 1024 / 1024 = 1;  b: 512 / 1024 = 0.5
    assert values(chart("ram_used")) == ([2.0, 0.5, 1.0], {"a": [1.5, 0, 1.0], "b": [0.5, 0.5, 0]})
    # total = used + free: a (1024 + 3072) / 1024 = 4 and (2048 + 2048) / 1024 = 4;  b (512 + 512) / 1024 = 1
    assert values(chart("ram_total"))[0] == [5.0, 1.0, 4.0]
    # a: (3072 + 2048) / 2 / 1024 = 2.5;  b: 0.5
    assert values(chart("ram_free"))[0] == [3.0, 0.5, 3.0]


def test_gpu_ram_sums_the_gpus_in_gb_and_gpu_charts_skip_a_container_without_gpus():
    # only b has GPUs: (512 + 1536) / 1024 = 2 GB total, 0.5 used, 1.5 free
    assert values(chart("gpu_ram_total")) == ([2.0, 2.0, 0], {"a": [0, 0, 0], "b": [2.0, 2.0, 0]})
    assert values(chart("gpu_ram_used"))[0] == [0.5, 0.5, 0]
    assert values(chart("gpu_ram_free"))[0] == [1.5, 1.5, 0]
    # mean over instances with a value: only b's 80 (a's missing gpu_usage is not a 0 %)
    assert values(chart("gpu_util"))[0] == [80.0, 80.0, 0]


def test_counts_are_list_lengths_summed_and_cpu_load_is_the_mean_of_the_cores_averaged():
    # cpu_count: a 1 core, b 2 cores -> 3;  gpu_count: a reports no gpu list -> 0, b 1 -> 1
    assert values(chart("cpu_count")) == ([3, 2, 1], {"a": [1, 0, 1], "b": [2, 2, 0]})
    assert values(chart("gpu_count")) == ([1, 1, 0], {"a": [0, 0, 0], "b": [1, 1, 0]})
    # cpu_util: a (50 + 70) / 2 = 60, then 50;  b mean(10, 30) = 20;  total (60 + 20) / 2 = 40
    assert values(chart("cpu_util")) == ([40.0, 20.0, 50.0], {"a": [60.0, 0, 50.0], "b": [20.0, 20.0, 0]})


def test_network_is_a_mean_per_instance_summed_over_instances():
    # a: (1.5 + 2.5) / 2 = 2.0, then 1.5;  b reports no network
    assert values(chart("network_rx"))[0] == [2.0, 0, 1.5]
    assert values(chart("network_tx"))[0] == [0, 0, 0]


def test_instances_are_sorted_by_container_id_and_empty_without_instance_charts():
    assert list(chart("requests")["instances"]) == ["a", "b"]  # b's samples come first in SAMPLES
    totals_only = chart("requests", instance_charts=False)
    assert totals_only["instances"] == {} and totals_only["total"]["values"] == [21, 7, 30]


def test_no_samples_give_no_dates_and_no_instances_as_the_reference_answers():
    assert chart("latency_ms", samples=[]) == {
        "computed_interval": 40, "instances": {},
        "total": {"title": "Average Latency (ms)", "dates": [], "values": []}}


NOON = 1796292000.0  # 2026-12-03T10:00:00Z
X = "http://u/x"


def container(cid: str, url: str | None, **kw) -> dict:
    return {"id": cid, "endpoint_name": f"ep-{cid}", "model_name": f"m-{cid}", "endpoint_url": url,
            "model_source": "src", "model_version": f"v-{cid}", "preprocess_artifact": None, "input_type": "str",
            "input_size": "None", "reference": [{"type": "task", "value": cid}], "register_time": NOON - 600,
            "last_update": NOON, **kw}


CONTAINERS = [
    container("b1", X, uptime_sec=100, requests_num=10, requests_min=1.0, latency_ms=10.9, cpu_count=1,
              gpu_count=None, last_update=NOON - 10),
    container("z9", "http://u/y", uptime_sec=5, requests_num=1, requests_min=0.5, latency_ms=3, cpu_count=1),
    container("c1", X, requests_num=7, requests_min=1.0, cpu_count=None, gpu_count=2, last_update=NOON + 5),
    container("a1", X, uptime_sec=300, requests_num=5, requests_min=2.0, latency_ms=22, cpu_count=4, gpu_count=1),
    container("l2", None, uptime_sec=None, register_time=NOON - 30.5, last_update=NOON - 30.5),
    container("l1", "", uptime_sec=12, register_time=NOON - 100, last_update=NOON - 40),
]


def test_iso_dates_are_utc_to_the_millisecond():
    assert iso_utc(NOON) == "2026-12-03T10:00:00.000+00:00"
    assert iso_utc(NOON + 5.25) == "2026-12-03T10:00:05.250+00:00"
    assert iso_utc(None) is None


def test_endpoints_group_by_url_with_sums_means_skipping_missing_fields_and_maxima():
    x, y = endpoint_stats(CONTAINERS)  # by url; the loading l1 and l2 are not listed
    assert x == {
        "endpoint": "ep-a1", "model": "m-a1", "url": X,  # the first container by id: a1
        "instances": 3,
        "uptime_sec": 300,  # max(300, 100); c1 reported none
        "requests": 22,  # 5 + 10 + 7
        "requests_min": 1.33,  # (2 + 1 + 1) / 3 = 1.333..
        "latency_ms": 16,  # (22 + int(10.9) = 10) / 2, c1 skipped
        "last_update": "2026-12-03T10:00:05.000+00:00",  # max: c1's NOON + 5
    }
    assert y["url"] == "http://u/y" and (y["instances"], y["requests"], y["latency_ms"]) == (1, 1, 3)


def test_an_endpoint_whose_containers_reported_nothing_has_null_means_and_zero_requests():
    [stats] = endpoint_stats([{"id": "n", "endpoint_name": "e", "model_name": "m", "endpoint_url": X}])
    assert (stats["instances"], stats["requests"], stats["requests_min"], stats["latency_ms"],
            stats["uptime_sec"], stats["last_update"]) == (1, 0, None, None, None, None)


def test_details_give_the_first_model_fields_maxima_and_each_instance_by_id():
    details = endpoint_details(CONTAINERS, X)
    assert {k: v for k, v in details.items() if k != "instances"} == {
        "endpoint": "ep-a1", "model": "m-a1", "url": X, "model_source": "src", "model_version": "v-a1",
        "preprocess_artifact": None, "input_type": "str", "input_size": "None",
        "uptime_sec": 300, "last_update": "2026-12-03T10:00:05.000+00:00"}
    a1, b1, c1 = details["instances"]
    assert a1 == {"id": "a1", "uptime_sec": 300, "requests": 5, "requests_min": 2.0, "latency_ms": 22,
                  "last_update": "2026-12-03T10:00:00.000+00:00", "reference": [{"type": "task", "value": "a1"}],
                  "cpu_count": 4, "gpu_count": 1}
    # b1: latency 10.9 truncated; no gpu list reported -> 0.  c1: no cpu list -> 0, 2 GPUs
    assert (b1["id"], b1["latency_ms"], b1["cpu_count"], b1["gpu_count"]) == ("b1", 10, 1, 0)
    assert (c1["id"], c1["uptime_sec"], c1["latency_ms"], c1["cpu_count"], c1["gpu_count"]) == ("c1", None, None, 0, 2)


def test_details_of_an_unknown_or_loading_url_are_a_lookup_error():
    with pytest.raises(LookupError, match="no containers for url"):
        endpoint_details(CONTAINERS, "http://u/none")
    with pytest.raises(LookupError):
        endpoint_details(CONTAINERS, "")


def test_loading_instances_are_the_containers_without_url_by_id_with_their_age():
    l1, l2 = loading_instances(CONTAINERS, now=NOON)
    assert l1 == {"id": "l1", "endpoint": "ep-l1", "model": "m-l1", "url": "", "model_source": "src",
                  "model_version": "v-l1", "preprocess_artifact": None, "input_type": "str", "input_size": "None",
                  "uptime_sec": 12, "age_sec": 100, "last_update": "2026-12-03T09:59:20.000+00:00"}  # NOON - 40
    assert (l2["id"], l2["url"], l2["uptime_sec"], l2["age_sec"]) == ("l2", None, None, 30)  # 30.5 truncated
    assert l2["last_update"] == "2026-12-03T09:59:29.500+00:00"


def test_the_ten_busiest_instances_are_charted_and_totalled_as_the_reference_picks_them():
    """(Every restart of a container is a new id: the reply must not grow with them past Lambda's 6 MB.)"""
    busy = [Sample(f"c{i:02}", 1000 + k, requests_num=1) for i in range(10) for k in range(3)]
    quiet = [Sample(f"q{i}", 1000, requests_num=100) for i in range(5)]  # one sample each
    data = chart("requests", samples=quiet + busy)
    assert list(data["instances"]) == [f"c{i:02}" for i in range(10)]
    assert data["total"]["values"][0] == 10
    assert chart("requests", samples=quiet + busy, most=None)["total"]["values"][0] == 510  # the dashboard's: all
