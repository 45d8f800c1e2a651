"""Load traces and the scenario they run on (format: ../shared/traces/README.md)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scenario:
    step_s: float
    max_perf: float
    perf_spread: float
    load_median_s: float
    load_sigma: float
    load_max_s: float
    start_from_stopped_s: float
    launch_failure_rate: float
    mtbf_s: float
    price_per_hour: float
    stopped_price_per_hour: float
    stopped_unavailable_rate: float
    target_wait_s: float
    max_workers: int

    @classmethod
    def load(cls, path: Path) -> Scenario:
        raw = json.loads(Path(path).read_text())
        w, load_time = raw["worker"], raw["worker"]["load_time_s"]
        return cls(
            step_s=float(raw["step_s"]), max_perf=w["max_perf"], perf_spread=w["max_perf_spread"],
            load_median_s=load_time["median"], load_sigma=load_time["sigma"], load_max_s=load_time["max"],
            start_from_stopped_s=w["start_from_stopped_s"], launch_failure_rate=w["launch_failure_rate"],
            mtbf_s=w["mean_time_between_failures_h"] * 3600, price_per_hour=w["price_per_hour"],
            stopped_price_per_hour=w["stopped_price_per_hour"],
            stopped_unavailable_rate=w["stopped_start_unavailable_rate"],
            target_wait_s=raw["slo"]["target_queue_time_s"], max_workers=int(raw["limits"]["max_workers"]),
        )


@dataclass(frozen=True)
class Trace:
    name: str
    step_s: float
    loads: tuple[float, ...]  # work units/s, constant within each step

    @property
    def duration_s(self) -> float:
        return self.step_s * len(self.loads)

    def load_at(self, t: float) -> float:
        index = int(t // self.step_s)
        return self.loads[index] if 0 <= index < len(self.loads) else 0.0

    @classmethod
    def load(cls, path: Path) -> Trace:
        with open(path, newline="") as f:
            rows = [(float(r["t_s"]), float(r["load"])) for r in csv.DictReader(f)]
        step = rows[1][0] - rows[0][0] if len(rows) > 1 else 10.0
        return cls(Path(path).stem, step, tuple(load for _, load in rows))


def load_traces(directory: Path) -> list[Trace]:
    return [Trace.load(p) for p in sorted(Path(directory).glob("*.csv"))]
