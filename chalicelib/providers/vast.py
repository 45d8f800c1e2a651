"""`VastProvider`: the Vast.ai REST API over HTTP, with timeouts and back-off retries.

The key is sent only in the Authorization header and never appears in errors or logs.
A 401/403 raises ProviderAuthError at once (retrying cannot fix a bad key).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from chalicelib.core.fleet import offer_query
from chalicelib.providers import Instance, LaunchSpec, Offer, ProviderAuthError, ProviderError, ProviderUnavailable

PAGE = 25


def _state(row: dict) -> str:
    actual, intended = row.get("actual_status"), row.get("intended_status") or row.get("next_state")
    if actual in ("offline", "unavailable") or row.get("machine_unavailable"):
        return "unavailable"
    if intended == "stopped" or actual in ("exited", "stopped"):
        return "stopped"
    if actual == "running":
        return "running"
    return "loading" if actual == "loading" else "launching"


class VastProvider:
    """The real Vast REST API (`https://console.vast.ai` by default)."""

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 10.0, attempts: int = 4,
                 backoff_s: float = 0.5, max_backoff_s: float = 8.0, sleep: Callable[[float], None] = time.sleep):
        if not api_key:
            raise ProviderAuthError("no Vast API key is configured (VAST_API_KEY)")
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self.timeout_s, self.attempts, self._sleep = timeout_s, attempts, sleep
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"VastProvider({self.base_url!r})"  # never the key

    def _call(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
              attempts: int | None = None, on_retry: Callable[[], Any] | None = None) -> dict:
        """One API call; retried with exponential back-off on timeouts, connection errors, 429 and 5xx.

        `on_retry`, if given, runs before each retry and may return a result that makes
        the retry unnecessary (how `launch` stays idempotent).
        """
        what = f"{method} {path}"
        problem = "no attempt"
        for attempt in range(attempts or self.attempts):
            if attempt:
                if on_retry is not None and (found := on_retry()) is not None:
                    return found
            try:
                reply = self._http.request(method, self.base_url + path, json=body, params=params,
                                           headers=self._headers, timeout=self.timeout_s)
            except (requests.Timeout, requests.ConnectionError) as error:
                problem = type(error).__name__
            else:
                if reply.status_code in (401, 403):
                    raise ProviderAuthError(f"{what}: HTTP {reply.status_code}, the Vast API key was refused")
                if reply.status_code == 429 or reply.status_code >= 500:
                    problem = f"HTTP {reply.status_code}"
                    retry_after = reply.headers.get("Retry-After", "")
                    if retry_after.isdigit():
                        self._sleep(min(float(retry_after), 30.0))
                else:
                    return self._result(what, reply)
            self._sleep(min(self.backoff_s * 2**attempt, self.max_backoff_s))
        raise ProviderError(f"{what}: gave up after {attempts or self.attempts} attempts ({problem})")

    @staticmethod
    def _result(what: str, reply: requests.Response) -> dict:
        try:
            data = reply.json()
        except ValueError:
            data = {}
        if reply.status_code >= 400 or data.get("success") is False:
            detail = str(data.get("msg") or data.get("error") or reply.text)[:200]
            if data.get("error") in ("resources_unavailable", "no_such_ask"):
                raise ProviderUnavailable(f"{what}: {detail}")
            if reply.status_code == 404:
                raise ProviderUnavailable(f"{what}: not found")
            raise ProviderError(f"{what}: HTTP {reply.status_code}: {detail}")
        return data

    def search_offers(self, search_params: str, gpu_ram: float, limit: int = 20) -> list[Offer]:
        try:
            search = offer_query.parse(search_params)
        except ValueError as error:  # stored before searches were checked when written
            raise ProviderError(f"the group's search_params cannot be read: {error}") from None
        filters = {"verified": {"eq": True}, "rentable": {"eq": True}, "rented": {"eq": False},
                   "gpu_ram": {"gte": gpu_ram}, **search}
        query = {**filters, "order": [["score", "desc"]], "type": "ondemand", "limit": limit}
        rows = self._call("POST", "/api/v0/bundles/", body={"q": query, **query}).get("offers", [])
        return [Offer(int(r["id"]), float(r.get("dph_total") or 0), str(r.get("gpu_name") or ""),
                      float(r.get("gpu_ram") or 0), float(r.get("dlperf") or 0)) for r in rows]

    def launch(self, offer_id: int, spec: LaunchSpec) -> int:
        """Rent the offer. A retry first looks for an instance already carrying `spec.label`."""
        body: dict[str, Any] = {"client_id": "me", "env": spec.env, "disk": spec.disk_gb, "label": spec.label,
                                "runtype": "args", "target_state": "running"}
        if spec.template_hash:
            body["template_hash_id"] = spec.template_hash
        if spec.image:
            body["image"] = spec.image
        if spec.launch_args:
            body["args_str"] = spec.launch_args

        def already_launched() -> dict | None:
            found = [i for i in self.list_instances() if i.label == spec.label]
            return {"new_contract": found[0].id} if found else None

        reply = self._call("PUT", f"/api/v0/asks/{offer_id}/", body=body, on_retry=already_launched)
        return int(reply["new_contract"])

    def start(self, instance_id: int) -> None:
        self._call("PUT", f"/api/v0/instances/{instance_id}/", body={"state": "running"})

    def stop(self, instance_id: int) -> None:
        self._call("PUT", f"/api/v0/instances/{instance_id}/", body={"state": "stopped"})

    def destroy(self, instance_id: int) -> None:
        try:
            self._call("DELETE", f"/api/v0/instances/{instance_id}/")
        except ProviderUnavailable:
            pass  # already gone: destroying is idempotent

    def list_instances(self) -> list[Instance]:
        instances, token = [], None
        while True:
            params = {"limit": PAGE, **({"after_token": token} if token else {})}
            page = self._call("GET", "/api/v1/instances/", params=params)
            instances += [Instance(int(r["id"]), str(r.get("label") or ""), _state(r), float(r.get("dph_total") or 0))
                          for r in page.get("instances", [])]
            token = page.get("next_token")
            if not token:
                return instances
