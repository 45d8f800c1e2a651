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
        return min(workers_for(trace.loads[0], self.max_perf), self.max_workers)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Read scenario.json; a missing or malformed field raises InputError naming it."""
        try:
            return cls._parse(json.loads(Path(path).read_text()))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not JSON ({e})") from None
        except KeyError as e:
            raise InputError(f"{path}: missing field {e}") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
        except (TypeError, ValueError) as e:
            raise InputError(f"{path}: {e}") from None

    @classmethod
    def _parse(cls, raw: dict) -> Scenario:
        w, load_time = raw["worker"], raw["worker"]["load_time_s"]
        max_workers = _number(raw["limits"], "limits.max_workers", low=1)
        if not float(max_workers).is_integer():
            raise ValueError(f"limits.max_workers must be a whole number, not {max_workers!r}")
        return cls(
            step_s=_number(raw, "step_s", low=0, open_low=True),
            max_perf=_number(w, "worker.max_perf", low=0, open_low=True),
            perf_spread=_number(w, "worker.max_perf_spread", low=0, high=1, open_high=True),
            load_median_s=_number(load_time, "worker.load_time_s.median", low=0, open_low=True),
            load_sigma=_number(load_time, "worker.load_time_s.sigma", low=0),
            load_max_s=_number(load_time, "worker.load_time_s.max", low=0, open_low=True),
            start_from_stopped_s=_number(w, "worker.start_from_stopped_s", low=0),
            launch_failure_rate=_number(w, "worker.launch_failure_rate", low=0, high=1, open_high=True),
            mtbf_s=_number(w, "worker.mean_time_between_failures_h", low=0, open_low=True) * 3600,
            price_per_hour=_number(w, "worker.price_per_hour", low=0, open_low=True),
            stopped_price_per_hour=_number(w, "worker.stopped_price_per_hour", low=0),
            stopped_unavailable_rate=_number(w, "worker.stopped_start_unavailable_rate", low=0, high=1),
            target_wait_s=_number(raw["slo"], "slo.target_queue_time_s", low=0, open_low=True),
            max_workers=int(max_workers),
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
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's export may start with a BOM
                reader = csv.DictReader(f)
                if reader.fieldnames:  # `T_S, Load` as a spreadsheet may spell it
                    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
                if not {"t_s", "load"} <= set(reader.fieldnames or ()):
                    raise InputError(f"{path}: header must name columns t_s and load, found {reader.fieldnames}")
                rows = [_row(path, reader.line_num, r) for r in reader]
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
        except csv.Error as e:
            raise InputError(f"{path}: not a CSV file ({e})") from None
        if not rows:
            raise InputError(f"{path}: no rows after the header")
        step = rows[1][0] - rows[0][0] if len(rows) > 1 else 10.0
        if step <= 0:
            raise InputError(f"{path}: t_s must increase from row to row")
        if step < 1 or not math.isclose(step, round(step), abs_tol=1e-6):
            raise InputError(f"{path}: steps must be whole seconds (the simulator's tick), found {step:g} s")
        for i, (t, _) in enumerate(rows):
            if not math.isclose(t, rows[0][0] + i * step, abs_tol=1e-6):
                raise InputError(f"{path}: row {i + 1} is at t_s={t:g}; rows must be evenly spaced by {step:g} s")
        return cls(Path(path).stem, step, tuple(load for _, load in rows))


def workers_for(load: float, max_perf: float) -> int:
    """Workers at `max_perf` that serve `load`: none for none, else at least one."""
    return 0 if load <= 0 else max(1, math.ceil(load / max_perf - 1e-9))


def _number(raw: dict, name: str, *, low: float, high: float = math.inf, open_low: bool = False,
            open_high: bool = False) -> float:
    value = raw[name.rpartition(".")[2]]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"{name} must be a number, not {value!r}")
    if value < low or (open_low and value == low) or value > high or (open_high and value == high):
        bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"{name} must be within {bounds}, not {value!r}")
    if math.isinf(value):
        raise ValueError(f"{name} must be finite")
    return float(value)


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
    return [Trace.load(p) for p in trace_files(directory)]


def trace_files(directory: Path) -> list[Path]:
    """The directory's `*.csv` files (`.CSV` too), by name."""
    return sorted(p for p in Path(directory).iterdir() if p.suffix.lower() == ".csv" and p.is_file())
