"""VastProvider over real HTTP against the fake Vast API on loopback."""
from __future__ import annotations

import pytest

from chalicelib.providers import LaunchSpec, ProviderAuthError, ProviderError, ProviderUnavailable
from chalicelib.providers.vast import VastProvider
from tests.support.fake_vast import FakeVast


@pytest.fixture
def fake():
    server = FakeVast()
    server.url = server.start()
    yield server
    server.stop()


def provider(fake, key="vast-test-key", **options) -> VastProvider:
    return VastProvider(fake.url, key, timeout_s=0.15, backoff_s=0.01, max_backoff_s=0.05, **options)


def spec(label="gpucp-g1-w1") -> LaunchSpec:
    return LaunchSpec(label=label, env={"CONTAINER_ID": "1", "MASTER_TOKEN": "wt_x", "REPORT_ADDR": "http://cp"})


def test_search_launch_list_stop_start_destroy(fake):
    vast = provider(fake)
    offers = vast.search_offers("gpu_ram>=20 num_gpus=1", gpu_ram=16, limit=5)
    assert len(offers) == 5 and offers[0].price_per_hour == 1.0 and offers[0].gpu_name == "RTX 4090"
    instance_id = vast.launch(offers[0].id, spec())
    assert fake.instances[instance_id].env["MASTER_TOKEN"] == "wt_x"
    assert [(i.id, i.label, i.state) for i in vast.list_instances()] == [(instance_id, "gpucp-g1-w1", "running")]
    vast.stop(instance_id)
    assert vast.list_instances()[0].state == "stopped"
    vast.start(instance_id)
    assert vast.list_instances()[0].state == "running"
    vast.destroy(instance_id)
    vast.destroy(instance_id)  # twice is fine
    assert vast.list_instances() == []


def test_listing_follows_pages(fake):
    vast = provider(fake)
    for offer in vast.search_offers("", gpu_ram=0, limit=30):
        vast.launch(offer.id, spec(f"l{offer.id}"))
    assert len(vast.list_instances()) == 30
    assert fake.calls.count("GET /api/v1/instances/") == 2  # 25 + 5


def test_a_search_that_cannot_be_read_is_a_provider_error_naming_it_and_asks_nothing(fake):
    with pytest.raises(ProviderError, match="search_params cannot be read: cannot read search term 'gpu_ram'"):
        provider(fake).search_offers("gpu_ram", gpu_ram=16)
    assert fake.calls == []


def test_a_refused_key_is_reported_at_once_not_retried(fake):
    with pytest.raises(ProviderAuthError) as raised:
        provider(fake, key="wrong-key").search_offers("", gpu_ram=0)
    assert len(fake.calls) == 1
    assert "wrong-key" not in str(raised.value)


def test_5xx_429_and_timeouts_are_retried_with_back_off(fake):
    fake.failure_rate = 0.3
    vast = provider(fake, attempts=12)
    for _ in range(10):
        assert len(vast.search_offers("", gpu_ram=0, limit=3)) == 3
    assert len(fake.calls) > 10


def test_giving_up_says_why(fake):
    fake.failure_rate = 1.0
    with pytest.raises(ProviderError, match="gave up after 2 attempts"):
        provider(fake, attempts=2).list_instances()


def test_a_launch_that_timed_out_after_renting_is_not_rented_again(fake):
    vast = provider(fake)
    offer = vast.search_offers("", gpu_ram=0)[0]
    fake.fail_next = ["late-timeout"]  # the instance is created, the reply never arrives in time
    instance_id = vast.launch(offer.id, spec("gpucp-g1-w9"))
    assert [(i.id, i.label) for i in vast.list_instances()] == [(instance_id, "gpucp-g1-w9")]
    assert fake.launches == 1


def test_launches_through_random_failures_rent_each_machine_once(fake):
    vast = provider(fake, attempts=20)
    ids = [o.id for o in vast.search_offers("", gpu_ram=0, limit=10)]
    fake.failure_rate = 0.3  # some launches time out after the instance was created
    launched = [vast.launch(offer_id, spec(f"w{offer_id}")) for offer_id in ids]
    fake.failure_rate = 0.0
    labels = [i.label for i in vast.list_instances()]
    assert sorted(labels) == sorted(f"w{o}" for o in ids) and len(set(launched)) == 10


def test_starting_a_machine_whose_gpu_was_taken_is_unavailable(fake):
    vast = provider(fake)
    instance_id = vast.launch(vast.search_offers("", gpu_ram=0)[0].id, spec())
    vast.stop(instance_id)
    fake.take_gpu(instance_id)
    with pytest.raises(ProviderUnavailable):
        vast.start(instance_id)

