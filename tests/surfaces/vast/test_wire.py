"""The Vast wire format read into the core's terms: the three report generations."""
from __future__ import annotations

import pytest

from chalicelib.surfaces.vast.wire import report


@pytest.mark.parametrize("body, reloaded", [
    ({"loadtime": 3.0, "max_perf": 1.0}, True),  # seed 001's `loaded`
    ({"cur_load": 1.0, "num_requests_recieved": 2}, False),
    ({"message": "loading update"}, True),
    ({"message": "data update", "loadtime": 3.0, "num_requests_recieved": 2}, False),
    ({"version": "1", "loadtime": 0.0, "num_requests_recieved": 0}, True),  # the current SDK, loading
    ({"version": "1", "loadtime": 3.0, "num_requests_recieved": 2}, False),
])
def test_each_generation_says_when_its_counts_start_again(body, reloaded):
    assert report({"id": 1, "mtoken": "t", **body}).reloaded is reloaded


def test_generations_are_told_apart_by_their_fields():
    assert report({"id": 1, "mtoken": "t", "message": "loading update"}).loading
    gen3 = report({"id": 1, "mtoken": "t", "version": "1", "new_load": 5.0, "rej_load": 1.0, "cur_load": 2.0})
    assert (gen3.arrived_amount, gen3.queue_load, gen3.arrived_rate) == (6.0, 2.0, None)
    gen1 = report({"id": 1, "mtoken": "t", "cur_load": 2.0})
    assert (gen1.arrived_rate, gen1.arrived_amount) == (2.0, None)
