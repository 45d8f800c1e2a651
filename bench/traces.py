"""Load traces and the scenario they run on (format: ../shared/traces/README.md)."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path


class InputError(ValueError):
    """A trace or scenario file the benchmark cannot read; the message names the file and the problem."""


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
    warm_start: bool = False  # every policy begins with the workers the first step needs, serving

    def warm_workers(self, trace: Trace) -> int:
        """The workers serving at t=0: as many as the first step's load needs at max_perf (0 cold)."""
        if not self.warm_start or not trace.loads:
            return 0
        return min(math.ceil(trace.loads[0] / self.max_perf - 1e-9), self.max_workers)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Read scenario.json; a missing or malformed field raises InputError naming it."""
        try:
            return cls._parse(json.loads(Path(path).read_text()))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not JSON ({e})") from None
        except KeyError as e:
            raise InputError(f"{path}: missing field {e}") from None
        except (TypeError, ValueError) as e:
            raise InputError(f"{path}: a field has the wrong type ({e})") from None

    @classmethod
    def _parse(cls, raw: dict) -> Scenario:
        w, load_time = raw["worker"], raw["worker"]["load_time_s"]
        return cls(
            step_s=float(raw["step_s"]), max_perf=w["max_perf"], perf_spread=w["max_perf_spread"],
            load_median_s=load_time["median"], load_sigma=load_time["sigma"], load_max_s=load_time["max"],
            start_from_stopped_s=w["start_from_stopped_s"], launch_failure_rate=w["launch_failure_rate"],
            mtbf_s=w["mean_time_between_failures_h"] * 3600, price_per_hour=w["price_per_hour"],
            stopped_price_per_hour=w["stopped_price_per_hour"],
            stopped_unavailable_rate=w["stopped_start_unavailable_rate"],
            target_wait_s=raw["slo"]["target_queue_time_s"], max_workers=int(raw["limits"]["max_workers"]),
            warm_start=_flag(raw, "warm_start"),
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
        """Read a `t_s,load` CSV; a malformed one raises InputError naming the file and line."""
        with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's export may start with a BOM
            reader = csv.DictReader(f)
            if not {"t_s", "load"} <= set(reader.fieldnames or ()):
                raise InputError(f"{path}: header must name columns t_s and load, found {reader.fieldnames}")
            rows = [_row(path, reader.line_num, r) for r in reader]
        if not rows:
            raise InputError(f"{path}: no rows after the header")
        step = rows[1][0] - rows[0][0] if len(rows) > 1 else 10.0
        if step <= 0:
            raise InputError(f"{path}: t_s must increase from row to row")
        for i, (t, _) in enumerate(rows):
            if not math.isclose(t, rows[0][0] + i * step, abs_tol=1e-6):
                raise InputError(f"{path}: row {i + 1} is at t_s={t:g}; rows must be evenly spaced by {step:g} s")
        return cls(Path(path).stem, step, tuple(load for _, load in rows))


def _flag(raw: dict, name: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false, not {value!r}")
    return value


def _row(path: Path, line: int, row: dict) -> tuple[float, float]:
    try:
        t, load = float(row["t_s"]), float(row["load"])
    except (TypeError, ValueError):
        raise InputError(f"{path}:{line}: t_s and load must be numbers, got {row['t_s']!r}, {row['load']!r}") from None
    if not math.isfinite(t):
        raise InputError(f"{path}:{line}: t_s must be a finite number, got {t:g}")
    if not (math.isfinite(load) and load >= 0):
        raise InputError(f"{path}:{line}: load must be a finite number >= 0, got {load:g}")
    return t, load


def load_traces(directory: Path) -> list[Trace]:
    return [Trace.load(p) for p in sorted(Path(directory).glob("*.csv"))]
