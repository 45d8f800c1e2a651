"""What every surface does at its edge (chalicelib/surfaces/edge.py) with what its views raise:
a fault of the server's own is a 500 in the surface's envelope, its traceback logged, never
Chalice's own 500; a write DynamoDB refuses for its size is a 413 naming the limit."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from chalicelib.core.errors import ApiError
from chalicelib.core.store import is_too_large, is_transient
from chalicelib.surfaces.edge import answering_errors
from tests.support.faults import Faults
from tests.surfaces.registry import routes

TOO_LARGE = "Item size has exceeded the maximum allowed size"


def refusal(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "PutItem")


def answer(raised: Exception):
    def view():
        raise raised
    return answering_errors(lambda error: {"code": error.code, "message": error.message})(view)()


@pytest.mark.parametrize(("surface", "route"), routes())
def test_a_fault_of_our_own_is_a_500_in_the_surfaces_envelope_with_its_traceback_logged(
        world, surface, route, monkeypatch, caplog):
    reached = []

    def a_bug(self, request):
        reached.append(request)
        raise RuntimeError("a bug of our own")
    monkeypatch.setattr(Faults, "__call__", a_bug)  # consulted before every DynamoDB request
    status, reply = world.send(route)
    if not reached:
        assert status == route.status, reply  # a route that reads nothing is not touched
        return
    surface.envelope.check(status, reply, 500, "internal_error", names="failed")
    [logged] = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert logged.exc_info and str(logged.exc_info[1]) == "a bug of our own"


def test_a_write_refused_for_its_size_is_a_413_naming_the_limit():
    response = answer(PutError("Failed to put item", cause=refusal("ValidationException", TOO_LARGE)))
    assert response.status_code == 413
    assert response.body["code"] == "too_large" and "400 KB" in response.body["message"]


@pytest.mark.parametrize(("code", "message", "large"), [
    ("ValidationException", TOO_LARGE, True),
    ("ValidationException", "Aggregated size of all range keys has exceeded the size limit of 1024 bytes", True),
    ("ValidationException", "One or more parameter values were invalid: Size of hashkey has exceeded", True),
    ("ValidationException", "One or more parameter values are not valid: the attribute is empty", False),
    ("ThrottlingException", "Rate of requests exceeds the allowed throughput", False),
])
def test_only_a_refusal_for_size_is_too_large(code, message, large):
    assert is_too_large(PutError("Failed to put item", cause=refusal(code, message))) == large


def test_any_other_refusal_is_a_500_and_a_transient_one_a_503():
    assert answer(PutError("x", cause=refusal("ValidationException", "a key of our own is wrong"))).status_code == 500
    throttled = PutError("x", cause=refusal("ThrottlingException", "slow down"))
    assert is_transient(throttled) and answer(throttled).status_code == 503


def test_an_api_error_is_answered_as_it_is():
    response = answer(ApiError(409, "conflict", "taken"))
    assert (response.status_code, response.body) == (409, {"code": "conflict", "message": "taken"})

