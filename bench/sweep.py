"""Cost at the SLO: each policy's one aggressiveness setting, swept over a fixed list.

A policy's `cost_at_99` on a trace is the lowest cost (against the clairvoyant's) among its
settings whose SLO attainment is at least 99%: None if no setting reaches it.
"""
from __future__ import annotations

from pathlib import Path

SLO_BAR = 0.99
UTILS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# policy -> (the field of its class the setting sets, the values swept)
SETTINGS: dict[str, tuple[str, tuple[float, ...]]] = {
    "production": ("target_util", UTILS),
    "production-unrated": ("target_util", UTILS),
    "k8s-hpa": ("target_util", UTILS),  # HPA's target utilisation
    "knative-kpa": ("target_util", (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),  # Knative's target (default 0.7)
    "ray-serve": ("target_util", UTILS),  # target ongoing requests, as a share of a replica's perf
    "skyserve": ("target_util", UTILS),  # target qps per replica, as a share of its perf
    "vast-heuristic": ("target_util", UTILS),
    "static": ("size", (0.6, 0.8, 0.9, 1.0, 1.1, 1.25)),  # the fleet, as a share of what the peak needs
}


def cost_at_99(rows: list[dict]) -> tuple[float | None, float | None]:
    """(the lowest cost ratio among the rows at the bar, its setting): the rows are one policy's
    settings on one trace; (None, None) if none reaches the bar."""
    met = [(r["cost_vs_clairvoyant"], r["setting"]) for r in rows
           if r["slo_attainment"] >= SLO_BAR and r["cost_vs_clairvoyant"] is not None]
    return min(met, default=(None, None))


def cost_table(rows: list[dict]) -> str:
    """Per trace, each policy's cost at 99% attainment over its settings."""
    lines = ["| trace | policy | cost / clairvoyant at >= 99% | at setting |", "|---|---|---:|---:|"]
    for r in rows:
        if "cost_at_99" in r:
            shown = ("n/a (the clairvoyant costs nothing)" if r["cost_vs_clairvoyant"] is None
                     else "none reaches 99%" if r["cost_at_99"] is None else f"{r['cost_at_99']:.2f}")
            at = "" if r["cost_at_99_setting"] is None else f"{r['cost_at_99_setting']:g}"
            lines.append(f"| {r['trace']} | {r['policy']} | {shown} | {at} |")
    return "\n".join(lines) + "\n"


def frontier(trace: str, rows: list[dict], out: Path) -> None:
    """SLO attainment against cost, a line per policy through its settings; defaults ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5.5))
    for policy in SETTINGS:
        swept = sorted((r for r in rows if r["policy"] == policy and "setting" in r and r["cost_vs_clairvoyant"]),
                       key=lambda r: r["setting"])
        if not swept:
            continue
        style = {"linewidth": 2.2, "color": "black"} if policy == "production" else {"linewidth": 1.0}
        line, = axis.plot([r["cost_vs_clairvoyant"] for r in swept], [100 * r["slo_attainment"] for r in swept],
                          marker="o", markersize=3, label=policy, **style)
        default = next((r for r in rows if r["policy"] == policy and "setting" not in r), None)
        if default and default["cost_vs_clairvoyant"]:
            axis.plot(default["cost_vs_clairvoyant"], 100 * default["slo_attainment"], marker="o", markersize=9,
                      markerfacecolor="none", color=line.get_color())
    axis.axhline(100 * SLO_BAR, color="0.5", linestyle=":", linewidth=0.8)
    axis.set_xlabel("cost / clairvoyant")
    axis.set_ylabel("work served within the target wait (%)")
    axis.set_ylim(max(0, axis.get_ylim()[0]), 100.5)
    axis.set_title(f"{trace}: attainment against cost, each policy's settings (ringed: its default)")
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(out / f"{trace}-frontier.png", dpi=110)
    plt.close(figure)
