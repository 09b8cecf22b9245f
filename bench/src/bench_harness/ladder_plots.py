"""The ladder's PNG plots: the waterfall of sustainable RPS, p95 per rung, the attribution
against the published one, and the leave-one-out bars (matplotlib's Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from bench_harness.ladder_figures import RungRow, Step  # noqa: E402
from bench_harness.rungs import PUBLISHED_SHARES  # noqa: E402

GAIN, LOSS, TOTAL, BEFORE = "#27ae60", "#c0392b", "#2471a3", "#7f8c8d"


def waterfall(
    ladder: list[RungRow],
    found: list[Step],
    shares: dict[str, dict[str, float | None]],
    fixed_rate: object,
    path: Path,
) -> Path | None:
    """Draw the RPS waterfall, p95 per rung and measured vs published attribution."""
    measured = [row for row in ladder if row.measured]
    if len(measured) < 2:
        return None
    figure, (left, middle, right) = plt.subplots(
        1, 3, figsize=(17, 4.8), gridspec_kw={"width_ratios": [3, 2, 1.4]}
    )
    start = measured[0].values["sustainable_rps"] or 0.0
    labels, bottoms, heights, colours = [measured[0].key], [0.0], [start], [BEFORE]
    running = start
    for step in found:
        labels.append("+" + "+".join(str(fix) for fix in step.fixes) + f"\n{step.to_key}")
        bottoms.append(min(running, running + step.rps_delta))
        heights.append(abs(step.rps_delta))
        colours.append(GAIN if step.rps_delta >= 0 else LOSS)
        running += step.rps_delta
    labels.append(f"{measured[-1].layout}\n(total)")
    bottoms.append(0.0)
    heights.append(running)
    colours.append(TOTAL)
    positions = range(len(labels))
    left.bar(positions, heights, bottom=bottoms, color=colours)
    for index, step in enumerate(found, start=1):
        share = "" if step.rps_share is None else f"\n{step.rps_share * 100:.0f}%"
        left.annotate(
            f"{step.rps_delta:+.0f}{share}",
            (index, bottoms[index] + heights[index]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    top = max(bottom + height for bottom, height in zip(bottoms, heights, strict=True))
    left.set_ylim(0, max(top, 1.0) * 1.15)  # room for the labels above the highest bar
    left.set_xticks(list(positions), labels, fontsize=8)
    left.set_ylabel("sustainable RPS (p95 <= target, errors < 1%)")
    left.set_title("What each fix added (share of the total gain)")
    left.grid(True, axis="y", alpha=0.3)

    p95s = [row.values["fixed_p95_ms"] or 0.0 for row in measured]
    middle.bar([row.key for row in measured], p95s, color=[BEFORE] + [TOTAL] * (len(p95s) - 1))
    middle.set_yscale("log")
    middle.set_title(f"p95 at the common fixed load ({fixed_rate} req/s)")
    middle.set_ylabel("ms")
    middle.tick_params(axis="x", labelsize=8, rotation=30)
    middle.grid(True, axis="y", which="both", alpha=0.3)

    groups = list(PUBLISHED_SHARES)
    ours = [(shares.get(group) or {}).get("rps") or 0.0 for group in groups]
    low = [PUBLISHED_SHARES[group][0] for group in groups]
    high = [PUBLISHED_SHARES[group][1] for group in groups]
    published = [(a + b) / 2 for a, b in zip(low, high, strict=True)]
    spread = [(b - a) / 2 for a, b in zip(low, high, strict=True)]
    xs = range(len(groups))
    right.bar([x - 0.2 for x in xs], [v * 100 for v in ours], 0.4, color=TOTAL, label="measured")
    right.bar(
        [x + 0.2 for x in xs],
        [v * 100 for v in published],
        0.4,
        yerr=[v * 100 for v in spread],
        color=BEFORE,
        label="published",
    )
    right.set_xticks(list(xs), groups)
    right.set_ylabel("% of the RPS gain")
    right.set_title("Attribution")
    right.legend(fontsize=8)
    right.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def leave_one_out_bars(after: RungRow | None, variants: list[RungRow], path: Path) -> Path | None:
    """Draw the sustainable RPS of the after layout and of each after-minus-one-fix variant."""
    shown = [row for row in ([after] if after else []) + variants if row.measured]
    if len(shown) < 2:
        return None
    figure, axis = plt.subplots(figsize=(8, 4))
    values = [row.values["sustainable_rps"] or 0.0 for row in shown]
    names = ["after" if row is after else row.key for row in shown]
    colours = [TOTAL if row is after else LOSS for row in shown]
    axis.bar(names, values, color=colours)
    for index, value in enumerate(values):
        axis.annotate(f"{value:.0f}", (index, value), ha="center", va="bottom", fontsize=8)
    axis.set_ylabel("sustainable RPS")
    axis.set_title("Leave one out: the after layout minus each fix")
    axis.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
