"""The scheduled passes: every active worker group, one `scale_group` each, every
`pass_interval_s` (the schedule's tick is a minute, the passes of a tick are spaced within it).

DynamoDB requests per group are constant in the number of its workers: a lease write,
the decisions in batches, the lease release, and one write per action taken; per
endpoint, shared by its groups, one paged Query of its workers and one of its load.
The provider's instance list is read once per pass, for all groups.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib import providers
from chalicelib.core.observability import logger, metrics
from chalicelib.core.store import (
    Endpoint,
    Event,
    Worker,
    WorkerGroup,
    bind,
    complete,
    is_transient,
    missing_fields,
)
from chalicelib.providers import Provider, ProviderError
from chalicelib.scaling.scale_group import Outcome, failed_pass, scale_group
from chalicelib.scaling.snapshot import load_history, thresholds


@dataclass
class PassReport:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def count(self, action: str) -> int:
        return sum(o.count(action) for o in self.outcomes)

    def summary(self) -> dict:
        """The pass as the scheduled function returns it: each group's outcome."""
        return {"groups": len(self.outcomes), "seconds": round(self.seconds, 3), "error": self.error,
                "outcomes": [o.summary() for o in self.outcomes]}


def run_pass(provider: Provider | None = None, now: float | None = None,
             endpoint: tuple[int, int] | None = None) -> PassReport:
    """Scale every worker group once, or only those of one (account_id, endpoint_id) when
    queueing woke the scaler for it. A refused provider key ends the pass at once."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    bind()
    report = PassReport()
    try:
        groups, endpoints = _groups(endpoint)
    except Exception as error:
        if not is_transient(error):
            raise
        report.error = f"listing the worker groups failed: {type(error).__name__}"  # the next pass tries again
        logger.warning("scaling pass could not list the groups", error=type(error).__name__)
        return report
    if not groups:
        return report
    try:
        provider = provider or providers.from_settings()
        instances = provider.list_instances()
    except ProviderError as error:
        # Reported where users look (each group's decisions) and where operators look (logs,
        # metrics); the next pass tries once more, no sooner.
        report.error = str(error)
        logger.error("scaling pass could not list the provider's instances", error=str(error))
        try:
            _save([failed_pass(g, now, str(error)) for g in groups])
        except Exception as failed:  # noqa: BLE001 - the logs still say it
            logger.warning("could not record the failed pass", error=type(failed).__name__)
        report.seconds = time.perf_counter() - started
        _publish(report)
        return report
    sharing: dict[int, int] = defaultdict(int)
    for group in groups:
        sharing[int(group.endpoint_id)] += 1
    history: dict[int, tuple] = {}
    fleet: dict[int, list[Worker]] = {}
    limits = thresholds()
    window = max(limits.scale_down_delay_s, limits.prediction_window_s)
    for group in groups:
        endpoint = endpoints.get((int(group.account_id), int(group.endpoint_id)))
        if endpoint is None or missing_fields(endpoint):
            continue  # its endpoint was deleted (the group goes with it), or its row is incomplete
        try:
            endpoint_id = int(endpoint.endpoint_id)
            if endpoint_id not in history:  # one read of the endpoint's workers and its load for all its groups
                fleet[endpoint_id] = list(Worker.by_endpoint.query(endpoint_id))
                # As far back as the endpoint's inactivity_timeout too: idle that long, it scales to zero.
                history_s = max(window, float(endpoint.inactivity_timeout or 0))
                history[endpoint_id] = load_history(endpoint_id, sharing[endpoint_id], now, history_s,
                                                    fleet[endpoint_id], float(endpoint.created_at))
            workers = [w for w in fleet[endpoint_id] if int(w.group_id) == int(group.group_id)]
            outcome = scale_group(provider, group, endpoint, workers, instances, history[endpoint_id], now)
            _save(outcome.decisions)
        except Exception as error:  # noqa: BLE001 - one group's failure, whatever it is, never stops the others
            logger.exception("scaling a group failed", group_id=int(group.group_id))
            outcome = Outcome(int(group.group_id), error=f"{type(error).__name__}: {error}"[:500])
        report.outcomes.append(outcome)
        if outcome.auth_failed:
            report.error = "the provider refused the API key"
            logger.error("scaling pass stopped: the provider refused the API key", group_id=outcome.group_id)
            break
    report.seconds = time.perf_counter() - started
    _publish(report)
    return report


def run_schedule(tick_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> list[PassReport]:
    """The passes of one tick of the schedule: one every `pass_interval_s` (the threshold the
    policy plans with) until the next tick is due. A pass that overruns its slot skips the
    slots it missed; one that failed as a whole (the provider, the groups' listing, a refused
    key) ends the tick, and the next tick tries again."""
    interval = max(thresholds().pass_interval_s, 1.0)
    start = clock()
    due, reports = start, []
    while due < start + tick_s - 1e-6:
        if due > clock():
            sleep(due - clock())
        reports.append(run_pass())
        if reports[-1].error:
            break
        due += interval
        while due < clock():
            due += interval
    return reports


def _groups(endpoint: tuple[int, int] | None) -> tuple[list[WorkerGroup], dict[tuple[int, int], Endpoint]]:
    """The groups to scale (an incomplete row is logged and skipped), and their endpoints by key."""
    if endpoint is None:
        groups = complete(WorkerGroup.scan())
    else:
        account_id, endpoint_id = endpoint
        groups = complete(WorkerGroup.query(account_id, filter_condition=WorkerGroup.endpoint_id == endpoint_id))
    keys = {(int(g.account_id), int(g.endpoint_id)) for g in groups}
    endpoints = {(int(e.account_id), int(e.endpoint_id)): e for e in Endpoint.batch_get(keys)} if keys else {}
    return groups, endpoints


def _save(decisions: list[Event]) -> None:
    if decisions:
        with Event.batch_write() as batch:
            for decision in decisions:
                batch.save(decision)


def _publish(report: PassReport) -> None:
    for action, name in (("launch", "Launches"), ("destroy", "Destroys"), ("stop", "Stops"), ("start", "Starts"),
                         ("resume", "Resumes")):
        metrics.add_metric(name=name, unit="Count", value=report.count(action))
    failed = sum(1 for o in report.outcomes for d in o.decisions if d.outcome.startswith("failed"))
    broken = sum(1 for o in report.outcomes if o.error)
    metrics.add_metric(name="ActionErrors", unit="Count", value=failed + broken + (1 if report.error else 0))
    metrics.add_metric(name="PassSeconds", unit="Seconds", value=report.seconds)
    metrics.flush_metrics()
    logger.info("scaling pass", groups=len(report.outcomes), seconds=round(report.seconds, 2),
                launches=report.count("launch"), destroys=report.count("destroy"), errors=failed,
                failed_groups=[o.group_id for o in report.outcomes if o.error])
