"""How each surface spells an error, for the specs: given a reply, "this is an error of status S,
code C, whose message names F", in the surface's own envelope.

A surface with a new envelope adds one small class here (a `read` that takes the reply apart
and fails on anything else) and its entry in ENVELOPES, under the name of its package in
chalicelib/surfaces/ (tests/surfaces/test_envelopes.py holds each entry to the app's own).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Error:
    """What an error reply says, whatever its envelope: a code (None where the envelope has none)
    and the message."""

    code: str | None
    message: str


class Envelope:
    name: str
    carries_codes = True  # the core's error code is in the reply as it is

    def read(self, status: int, reply: object) -> Error:
        """The error `reply` carries; fails unless the reply is exactly an error in this envelope."""
        raise NotImplementedError

    def stable(self, reply: object) -> object:
        """The reply without what differs on every call (ClearML's transaction ids)."""
        return reply

    def check(self, status: int, reply: object, expected_status: int, code: str | None = None,
              names: str | tuple[str, ...] = ()) -> Error:
        """A reply of `expected_status` in this envelope, with `code` (where the envelope carries
        codes), whose message contains each of `names`."""
        assert status == expected_status, (status, reply)
        error = self.read(status, reply)
        if code is not None and error.code is not None:
            assert error.code == code, reply
        for name in (names,) if isinstance(names, str) else names:
            assert name in error.message, reply
        return error

    def __repr__(self) -> str:
        return f"<{self.name} envelope>"


@dataclass(frozen=True, repr=False)
class SuccessErrorMsg(Envelope):
    """`{"success": false, "error": <code>, "msg": <message>}`, and nothing else."""

    name: str

    def read(self, status: int, reply: object) -> Error:
        assert isinstance(reply, dict) and set(reply) == {"success", "error", "msg"}, reply
        assert reply["success"] is False, reply
        assert isinstance(reply["error"], str) and reply["error"], reply
        assert isinstance(reply["msg"], str) and reply["msg"], reply
        return Error(reply["error"], reply["msg"])


@dataclass(frozen=True, repr=False)
class Message(Envelope):
    """`{"message": <message>}`: no code, nothing else."""

    name: str

    def read(self, status: int, reply: object) -> Error:
        assert isinstance(reply, dict) and set(reply) == {"message"}, reply
        assert isinstance(reply["message"], str) and reply["message"], reply
        return Error(None, reply["message"])


@dataclass(frozen=True, repr=False)
class MetaData(Envelope):
    """ClearML's `{"meta": {..., "result_code": <the HTTP status>, "result_subcode", "result_msg"},
    "data": {}}`. Its codes are subcodes: 400s read as "invalid_args", 401s as "unauthorized"."""

    name: str
    carries_codes = False

    def read(self, status: int, reply: object) -> Error:
        assert isinstance(reply, dict) and set(reply) == {"meta", "data"} and reply["data"] == {}, reply
        meta = reply["meta"]
        assert meta["result_code"] == status and isinstance(meta["result_subcode"], int), reply
        assert isinstance(meta["result_msg"], str) and meta["result_msg"], reply
        assert isinstance(meta["id"], str) and isinstance(meta["trx"], str), reply
        assert isinstance(meta["endpoint"], dict) and isinstance(meta["endpoint"]["name"], str), reply
        return Error({400: "invalid_args", 401: "unauthorized"}.get(status), meta["result_msg"])

    def stable(self, reply: object) -> object:
        if not (isinstance(reply, dict) and isinstance(reply.get("meta"), dict)):
            return reply
        return {**reply, "meta": {k: v for k, v in reply["meta"].items() if k not in ("id", "trx")}}


@dataclass(frozen=True, repr=False)
class MessageCode(Envelope):
    """`{"message": <message>, "code": <code>}`, and nothing else (MLBench: the real CLI prints `message`)."""

    name: str

    def read(self, status: int, reply: object) -> Error:
        assert isinstance(reply, dict) and set(reply) == {"message", "code"}, reply
        assert isinstance(reply["message"], str) and reply["message"], reply
        assert isinstance(reply["code"], str) and reply["code"], reply
        return Error(reply["code"], reply["message"])


VAST = SuccessErrorMsg("vast")
ADMIN = SuccessErrorMsg("admin")  # the console's shape, so one client reads both
CLEARML = MetaData("clearml")
MLBENCH = MessageCode("mlbench")
PLAIN = Message("plain")  # a path no surface owns

# By the name of the surface's package in chalicelib/surfaces/.
ENVELOPES: dict[str, Envelope] = {"vast": VAST, "admin": ADMIN, "clearml": CLEARML, "mlbench": MLBENCH}
