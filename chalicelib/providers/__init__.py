"""GPU providers behind one small interface: search offers, launch, start, stop, destroy, list."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """A provider call failed; worth trying again on a later pass."""


class ProviderAuthError(ProviderError):
    """The provider refused our key: retrying cannot help, an operator must act."""


class ProviderUnavailable(ProviderError):
    """The machine cannot do what was asked (e.g. a stopped machine's GPU was rented meanwhile)."""


@dataclass(frozen=True)
class Offer:
    id: int
    price_per_hour: float
    gpu_name: str = ""
    gpu_ram: float = 0.0
    dlperf: float = 0.0


@dataclass(frozen=True)
class Instance:
    """An instance as the provider lists it. `state`: launching, loading, running, stopped, unavailable."""

    id: int
    label: str
    state: str
    price_per_hour: float


@dataclass(frozen=True)
class LaunchSpec:
    """What a new instance needs: how to find this control plane, and what to run."""

    label: str
    env: dict[str, str]
    template_hash: str | None = None
    image: str | None = None
    launch_args: str | None = None
    disk_gb: float = 32.0


class Provider(Protocol):
    def search_offers(self, search_params: str, gpu_ram: float, limit: int) -> list[Offer]: ...

    def launch(self, offer_id: int, spec: LaunchSpec) -> int: ...

    def start(self, instance_id: int) -> None: ...

    def stop(self, instance_id: int) -> None: ...

    def destroy(self, instance_id: int) -> None: ...

    def list_instances(self) -> list[Instance]: ...


def from_settings() -> Provider:
    """The provider the settings name (PROVIDER, VAST_API_URL, VAST_API_KEY)."""
    from chalicelib.core import settings

    name = settings.provider_name()
    if name == "vast":
        from chalicelib.providers.vast import VastProvider

        return VastProvider(settings.vast_api_url(), settings.vast_api_key())
    if name == "local":
        from chalicelib.providers.local import LocalProvider

        return LocalProvider.from_settings()
    raise ProviderError(f"unknown PROVIDER '{name}': use 'vast' or 'local'")
