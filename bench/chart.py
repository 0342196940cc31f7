"""Draw the bench's search results as an SVG bar chart (no plotting library needed).

    python -m bench search --target both --repeat 3 > runs.jsonl
    python -m bench.chart < runs.jsonl > docs/performance-search.svg

One group of bars per run (relay and Parley side by side, highest rate held with p99 within
the limit), then the medians; each bar is labelled with its rate.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from html import escape

COLORS = {"relay": "#9aa5b1", "parley": "#1f6feb"}
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 320, 40, 50, 20


def search_rates(lines: Iterable[str]) -> dict[str, list[float]]:
    """The ``max_rate`` of every search line, by target, in run order."""
    rates: dict[str, list[float]] = {"relay": [], "parley": []}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        row = json.loads(line)
        if row.get("scenario") == "search" and row.get("target") in rates:
            rates[row["target"]].append(float(row["max_rate"]))
    return rates


def svg(rates: dict[str, list[float]], title: str) -> str:
    """The chart as an SVG document."""
    runs = max(len(v) for v in rates.values())
    if runs == 0:
        raise ValueError("no search results in the input")
    groups = [
        (f"run {i + 1}", {t: v[i] for t, v in rates.items() if i < len(v)}) for i in range(runs)
    ]
    groups.append(("median", {t: statistics.median(v) for t, v in rates.items() if v}))
    top = max(max(g.values()) for _, g in groups) or 1.0
    slot = (WIDTH - 2 * LEFT) / len(groups)
    bar = slot / 3
    scale = (HEIGHT - TOP - BOTTOM) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>',
    ]
    for index, (label, values) in enumerate(groups):
        x0 = LEFT + index * slot + bar / 2
        for offset, target in enumerate(("relay", "parley")):
            if target not in values:
                continue
            height = values[target] * scale
            x = x0 + offset * bar
            y = HEIGHT - BOTTOM - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{height:.1f}" '
                f'fill="{COLORS[target]}"/>'
                f'<text x="{x + bar / 2 - 1:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{values[target]:.0f}</text>"
            )
        parts.append(
            f'<text x="{x0 + bar:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for offset, target in enumerate(("relay", "parley")):
        x = LEFT + offset * 140
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{COLORS[target]}"/>'
            f'<text x="{x + 18}" y="{HEIGHT - 8}">{"bare relay" if target == "relay" else "Parley"}'
            "</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    title = "Highest rate held with p99 <= 100 ms (msg/s), eventlet, PostgreSQL, one process"
    sys.stdout.write(svg(search_rates(sys.stdin), title))


if __name__ == "__main__":
    main()
