"""Server-side SVG: line, column and bar charts, sparklines, and the bus topology diagram.

Each chart comes with its legend and a data table, so the page shows the numbers to anyone who
cannot see the picture (the SVG is `role="img"` with a summary; the table sits in a
<details>). No JavaScript and no library: the markup is built here, every text escaped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from routing.selectors.topology import BusNode, RuleNode, TargetNode

PALETTE = ("#6f4e37", "#c8873a", "#3b6ea5", "#2e7d4f", "#7a5ea8", "#b3261e", "#4a8f8f",
           "#b7791f", "#8a6d5a", "#5b7f2b")
OUTCOME_COLOURS = {"succeeded": "#2e7d4f", "failed attempts": "#c8873a",
                   "dead-lettered": "#b3261e", "p50": "#3b6ea5", "p95": "#7a5ea8",
                   "started": "#6f4e37", "completed": "#2e7d4f", "cancelled": "#b7791f",
                   "timed_out": "#b3261e", "unavailable": "#8a6d5a"}
GRID = "#e8ded4"
INK = "#2b1d14"
MUTED = "#7a6a5e"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def colour_of(name: str, position: int) -> str:
    return OUTCOME_COLOURS.get(name, PALETTE[position % len(PALETTE)])


@dataclass
class Chart:
    svg: SafeString
    summary: str
    legend: list[tuple[str, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    empty: bool = False


@dataclass
class Line:
    name: str
    values: Sequence[float | None]


def nice_axis(peak: float, *, most_ticks: int = 5, whole: bool = False) -> tuple[float, int]:
    """(step, ticks): a round step (1, 2, 2.5 or 5 times a power of ten) and how many of them
    reach `peak`, at most `most_ticks`; the axis runs from 0 to step * ticks. `whole` keeps
    steps of counts whole."""
    if peak <= 0:
        return 1.0, 4
    if whole and peak <= most_ticks:
        return 1.0, max(math.ceil(peak), 1)
    magnitude = 10 ** math.floor(math.log10(peak / most_ticks))
    for factor in (1, 2, 2.5, 5, 10, 20):
        step = factor * magnitude
        ticks = math.ceil(peak / step - 1e-9)
        if ticks <= most_ticks:
            return step, max(ticks, 1)
    return 20 * magnitude, most_ticks  # pragma: no cover (the loop always returns)


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "\u2013"  # an en dash: no value
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "\u2013"  # an en dash: no value
    if value >= 1000:
        return f"{value / 1000:,.2f} s"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _svg(width: int, height: int, body: list[str], label: str, css_class: str) -> SafeString:
    # An image may hold no links (axe: nested-interactive); a diagram whose boxes are links is a
    # labelled group, so screen readers reach each link.
    role = "group" if any("<a " in part for part in body) else "img"
    return mark_safe(  # noqa: S308 (every text and attribute below is escaped)
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" role="{role}" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="{FONT}">' + "".join(body) + "</svg>"
    )


def _time_label(moment: datetime, span_seconds: float) -> str:
    if span_seconds > 2 * 86400:
        return moment.strftime("%a %d %H:%M").replace(" 00:00", "")
    return moment.strftime("%H:%M")


def line_chart(
    starts: Sequence[datetime],
    lines: Sequence[Line],
    *,
    label: str,
    value_format: Callable[[float | None], str] = number,
    width: int = 720,
    height: int = 220,
) -> Chart:
    """Lines over time (one point per bucket; None leaves a gap). Hovering a bucket shows every
    line's value there (an SVG <title>, so no script is needed)."""
    left, right, top, bottom = 56, 14, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    count = len(starts)
    peak = max((v for line in lines for v in line.values if v is not None), default=0.0)
    step_y, ticks = nice_axis(peak)
    ceiling = step_y * ticks
    step_x = plot_w / max(count - 1, 1)

    def x(index: int) -> float:
        return left + index * step_x

    def y(value: float) -> float:
        return top + plot_h - (value / ceiling) * plot_h

    body: list[str] = []
    for tick in range(ticks + 1):
        tick_value = step_y * tick
        ty = y(tick_value)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" fill="{MUTED}" '
                    f'text-anchor="end">{escape(value_format(tick_value))}</text>')
    span = (starts[-1] - starts[0]).total_seconds() if count > 1 else 0
    label_every = max(1, math.ceil(count / 7))
    for index in range(0, count, label_every):
        body.append(f'<text x="{x(index):.1f}" y="{height - 8}" font-size="11" fill="{MUTED}" '
                    f'text-anchor="middle">{escape(_time_label(starts[index], span))}</text>')
    legend = []
    for position, line in enumerate(lines):
        colour = colour_of(line.name, position)
        legend.append((line.name, colour))
        runs: list[list[tuple[float, float]]] = [[]]
        for index, point in enumerate(line.values):
            if point is None:
                runs.append([])
            else:
                runs[-1].append((x(index), y(point)))
        for run in runs:
            if len(run) == 1:
                px, py = run[0]
                body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>')
            elif run:
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                            f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>')
    for index, start in enumerate(starts):
        values = "; ".join(f"{line.name} {value_format(line.values[index])}" for line in lines)
        body.append(
            f'<rect x="{x(index) - step_x / 2:.1f}" y="{top}" width="{step_x:.1f}" '
            f'height="{plot_h}" fill="transparent"><title>{escape(start.strftime("%d %b %H:%M"))}'
            f" UTC — {escape(values)}</title></rect>"
        )
    empty = peak == 0 and not any(v is not None for line in lines for v in line.values if v)
    if empty:
        body.append(f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" '
                    f'font-size="13" fill="{MUTED}" text-anchor="middle">Nothing in this period'
                    "</text>")
    head = ["Time (UTC)", *[line.name for line in lines]]
    rows = [[start.strftime("%Y-%m-%d %H:%M"), *[value_format(line.values[index])
                                                  for line in lines]]
            for index, start in enumerate(starts)]
    return Chart(_svg(width, height, body, label, "chart line-chart"), label, legend, head, rows,
                 empty)


def column_chart(
    labels: Sequence[str],
    lines: Sequence[Line],
    *,
    label: str,
    width: int = 720,
    height: int = 220,
) -> Chart:
    """Grouped columns: one group per label (a day, say), one column per series."""
    left, right, top, bottom = 44, 10, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v or 0.0 for line in lines for v in line.values), default=0.0)
    step_y, ticks = nice_axis(peak, whole=True)
    ceiling = step_y * ticks
    group_w = plot_w / max(len(labels), 1)
    column_w = min(22.0, group_w * 0.8 / max(len(lines), 1))
    body: list[str] = []
    for tick in range(ticks + 1):
        value = step_y * tick
        ty = top + plot_h - value / ceiling * plot_h
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" fill="{MUTED}" '
                    f'text-anchor="end">{escape(number(value))}</text>')
    legend = [(line.name, colour_of(line.name, position)) for position, line in enumerate(lines)]
    for group, text in enumerate(labels):
        centre = left + group_w * (group + 0.5)
        start = centre - column_w * len(lines) / 2
        for position, line in enumerate(lines):
            value = line.values[group] or 0
            column_h = value / ceiling * plot_h
            body.append(
                f'<rect x="{start + position * column_w:.1f}" y="{top + plot_h - column_h:.1f}" '
                f'width="{column_w - 1:.1f}" height="{column_h:.1f}" rx="2" '
                f'fill="{legend[position][1]}"><title>{escape(text)}: {escape(line.name)} '
                f"{escape(number(value))}</title></rect>"
            )
        body.append(f'<text x="{centre:.1f}" y="{height - 8}" font-size="11" fill="{MUTED}" '
                    f'text-anchor="middle">{escape(text)}</text>')
    empty = peak == 0
    if empty:
        body.append(f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" '
                    f'font-size="13" fill="{MUTED}" text-anchor="middle">Nothing counted yet'
                    "</text>")
    head = ["", *[line.name for line in lines]]
    rows = [[text, *[number(line.values[group]) for line in lines]]
            for group, text in enumerate(labels)]
    return Chart(_svg(width, height, body, label, "chart column-chart"), label, legend, head,
                 rows, empty)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str = ""
    note: str = ""


def bar_chart(
    bars: Sequence[Bar],
    *,
    label: str,
    value_format: Callable[[float | None], str] = number,
    colour: str = PALETTE[0],
    width: int = 720,
    empty_text: str = "Nothing in this period",
) -> Chart:
    """Horizontal bars, largest first as given; each may link somewhere."""
    label_w, row_h, top = 260, 26, 6
    height = max(top * 2 + row_h * len(bars), 48)
    peak = max((bar.value for bar in bars), default=0)
    plot_w = width - label_w - 90
    body: list[str] = []
    for index, bar in enumerate(bars):
        ty = top + index * row_h
        text = _fit(bar.label, label_w - 14)
        bar_w = 0 if peak == 0 else max(bar.value / peak * plot_w, 1.5 if bar.value else 0)
        row = (
            f'<text x="{label_w - 8}" y="{ty + row_h / 2 + 4:.1f}" font-size="12" fill="{INK}" '
            f'text-anchor="end"><title>{escape(bar.label)}</title>{escape(text)}</text>'
            f'<rect x="{label_w}" y="{ty + 4}" width="{bar_w:.1f}" height="{row_h - 8}" rx="3" '
            f'fill="{colour}"><title>{escape(bar.label)}: {escape(value_format(bar.value))}'
            f"</title></rect>"
            f'<text x="{label_w + bar_w + 6:.1f}" y="{ty + row_h / 2 + 4:.1f}" font-size="12" '
            f'fill="{MUTED}">{escape(value_format(bar.value))}{escape(bar.note)}</text>'
        )
        if bar.href:
            row = f'<a href="{escape(bar.href)}">{row}</a>'
        body.append(row)
    if not bars:
        body.append(f'<text x="{width / 2:.0f}" y="30" font-size="13" fill="{MUTED}" '
                    f'text-anchor="middle">{escape(empty_text)}</text>')
    rows = [[bar.label, value_format(bar.value) + bar.note] for bar in bars]
    return Chart(_svg(width, height, body, label, "chart bar-chart"), label, [],
                 ["", label], rows, not bars)


def sparkline(values: Sequence[float], *, label: str, width: int = 240, height: int = 44
              ) -> SafeString:
    peak = max(values, default=0) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{index * step:.1f},{height - 3 - value / peak * (height - 6):.1f}"
                      for index, value in enumerate(values))
    area = f"0,{height} {points} {width},{height}"
    return _svg(width, height, [
        f'<polygon points="{area}" fill="#c8873a" fill-opacity=".15"/>',
        f'<polyline points="{points}" fill="none" stroke="#c8873a" stroke-width="2"/>',
    ], label, "sparkline")


# Topology ------------------------------------------------------------------------------------

BUS_X, BUS_W = 10, 170
RULE_X, RULE_W = 250, 300
TARGET_X, TARGET_W = 630, 330
DIAGRAM_W = TARGET_X + TARGET_W + 10
RULE_H, TARGET_H, GAP = 54, 40, 12
KIND_LABELS = {"handler": "handler", "webhook": "webhook", "channels": "websocket group",
               "bus": "bus"}


def _fit(text: str, width: float, size: float = 12) -> str:
    room = int(width / (size * 0.56))
    return text if len(text) <= room else text[:max(room - 1, 1)] + "…"


def _curve(x1: float, y1: float, x2: float, y2: float, *, style: str) -> str:
    middle = (x1 + x2) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" {style}/>')


def _target_href(bus: str, target: TargetNode) -> str:
    if target.kind == "bus":
        return f"#bus-{target.address}"
    return ""


def topology_diagram(bus: BusNode, *, rule_href: Callable[[RuleNode], str],
                     deliveries_href: Callable[[RuleNode, TargetNode], str]) -> SafeString:
    """One bus: the bus on the left, its rules (and archives) in the middle with their recent
    match counts and state, each rule's targets on the right."""
    body: list[str] = []
    y = 10.0
    rule_boxes: list[tuple[RuleNode, float, float]] = []
    for rule in bus.rules:
        rows = max(len(rule.targets), 1)
        block_h = max(RULE_H, rows * TARGET_H + (rows - 1) * GAP / 2)
        rule_boxes.append((rule, y, block_h))
        y += block_h + GAP
    archive_top = y
    y += len(bus.archives) * (TARGET_H + GAP / 2)
    height = max(y + 4, 80)
    centre = height / 2
    bus_h = 56
    bus_y = centre - bus_h / 2

    for rule, top, block_h in rule_boxes:
        enabled = rule.state == "ENABLED"
        rule_y = top + block_h / 2 - RULE_H / 2
        weight = 1.5 + min(math.log10(rule.matches_recent + 1) * 1.5, 4)
        style = (f'stroke="#c8873a" stroke-width="{weight:.1f}" stroke-opacity=".8"' if enabled
                 else 'stroke="#b9aca0" stroke-width="1.5" stroke-dasharray="5 4"')
        body.append(_curve(BUS_X + BUS_W, centre, RULE_X, rule_y + RULE_H / 2, style=style))
        stroke = "#c8873a" if enabled else "#b9aca0"
        fill = "#fffaf3" if enabled else "#f4f1ee"
        state = "enabled" if enabled else "disabled"
        dash = "" if enabled else ' stroke-dasharray="5 4"'
        managed = f" · managed by {rule.managed_by}" if rule.managed_by else ""
        box = (
            f'<rect x="{RULE_X}" y="{rule_y:.1f}" width="{RULE_W}" height="{RULE_H}" rx="10" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
            f'<text x="{RULE_X + 12}" y="{rule_y + 21:.1f}" font-size="13" font-weight="600" '
            f'fill="{INK}">{escape(_fit(rule.name, RULE_W - 90, 13))}</text>'
            f'<text x="{RULE_X + RULE_W - 12}" y="{rule_y + 21:.1f}" font-size="11" '
            f'font-weight="600" text-anchor="end" fill="{"#2e7d4f" if enabled else "#b7791f"}">'
            f"{state}</text>"
            f'<text x="{RULE_X + 12}" y="{rule_y + 41:.1f}" font-size="11.5" fill="{MUTED}">'
            f"{number(rule.matches_recent)} matched in 1 h · {number(rule.matches_day)} in 24 h"
            f"{escape(_fit(managed, 80, 11))}</text>"
            f"<title>{escape(rule.name)} ({state}){escape(managed)}: "
            f"{rule.matches_recent} events matched in the last hour, {rule.matches_day} in 24 "
            f"hours. {escape(rule.description)}</title>"
        )
        href = rule_href(rule)
        body.append(f'<a href="{escape(href)}">{box}</a>' if href else box)
        count = len(rule.targets)
        for index, target in enumerate(rule.targets):
            target_y = (top + block_h / 2 - (count * TARGET_H + (count - 1) * GAP / 2) / 2
                        + index * (TARGET_H + GAP / 2))
            body.append(_curve(RULE_X + RULE_W, rule_y + RULE_H / 2, TARGET_X,
                               target_y + TARGET_H / 2,
                               style=f'stroke="{stroke}" stroke-width="1.5" stroke-opacity=".7"'))
            kind = KIND_LABELS.get(target.kind, target.kind)
            box = (
                f'<rect x="{TARGET_X}" y="{target_y:.1f}" width="{TARGET_W}" '
                f'height="{TARGET_H}" rx="8" fill="#ffffff" stroke="#d9cbbd"/>'
                f'<text x="{TARGET_X + 10}" y="{target_y + 16:.1f}" font-size="12" '
                f'font-weight="600" fill="{INK}">'
                f"{escape(_fit(target.target_id, TARGET_W - 110))}</text>"
                f'<text x="{TARGET_X + TARGET_W - 10}" y="{target_y + 16:.1f}" font-size="10.5" '
                f'text-anchor="end" fill="{MUTED}">{escape(kind)}</text>'
                f'<text x="{TARGET_X + 10}" y="{target_y + 32:.1f}" font-size="11" '
                f'fill="{MUTED}" font-family="ui-monospace, Menlo, Consolas, monospace">'
                f"{escape(_fit(target.address, TARGET_W - 20, 11.5))}</text>"
                f"<title>{escape(kind)} {escape(target.target_id)}: {escape(target.address)}"
                f"</title>"
            )
            href = _target_href(bus.name, target) or deliveries_href(rule, target)
            body.append(f'<a href="{escape(href)}">{box}</a>')
        if not rule.targets:
            body.append(f'<text x="{TARGET_X}" y="{rule_y + RULE_H / 2 + 4:.1f}" '
                        f'font-size="12" fill="{MUTED}" font-style="italic">no targets: '
                        "matches deliver nothing</text>")

    for index, name in enumerate(bus.archives):
        archive_y = archive_top + index * (TARGET_H + GAP / 2)
        body.append(_curve(BUS_X + BUS_W, centre, RULE_X, archive_y + TARGET_H / 2,
                           style='stroke="#8a6d5a" stroke-width="1.2" stroke-dasharray="2 3"'))
        body.append(
            f'<a href="/dashboard/archives/#archive-{escape(name)}">'
            f'<rect x="{RULE_X}" y="{archive_y:.1f}" width="{RULE_W}" height="{TARGET_H}" '
            f'rx="8" fill="#f7f2ec" stroke="#8a6d5a" stroke-dasharray="2 3"/>'
            f'<text x="{RULE_X + 12}" y="{archive_y + 25:.1f}" font-size="12" fill="{INK}">'
            f'<tspan font-weight="600">archive</tspan> {escape(_fit(name, RULE_W - 80))}</text>'
            f"<title>Archive {escape(name)}: keeps the bus's matching events for replay"
            "</title></a>"
        )

    body.insert(0, (
        f'<rect x="{BUS_X}" y="{bus_y:.1f}" width="{BUS_W}" height="{bus_h}" rx="12" '
        f'fill="#6f4e37"/>'
        f'<text x="{BUS_X + 14}" y="{bus_y + 22:.1f}" font-size="11" fill="#f1e3d3">event bus'
        f"</text>"
        f'<text x="{BUS_X + 14}" y="{bus_y + 41:.1f}" font-size="14" font-weight="700" '
        f'fill="#ffffff">{escape(_fit(bus.name, BUS_W - 24, 14))}</text>'
        f"<title>Event bus {escape(bus.name)}. {escape(bus.description)}</title>"
    ))
    if not bus.rules and not bus.archives:
        body.append(f'<text x="{RULE_X}" y="{centre + 4:.1f}" font-size="12" fill="{MUTED}" '
                    f'font-style="italic">no rules yet</text>')
    label = (f"Event bus {bus.name}: {len(bus.rules)} rules, "
             f"{sum(len(rule.targets) for rule in bus.rules)} targets, "
             f"{len(bus.archives)} archives")
    return _svg(DIAGRAM_W, int(height), body, label, "topology")


def query(**params: object) -> str:
    return urlencode({key: value for key, value in params.items() if value not in ("", None)})
