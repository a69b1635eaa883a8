"""Line charts drawn on the server as SVG text: no JavaScript, no outside network, no dependency.

`line_chart` is a pure function: labels along x (periods), one line per
series of integer cents along y, with axes, ticks, grid lines and a legend.
Every piece of text that came from data (title, labels, series names) is
XML-escaped, so the result is safe to place inline in a page as it is.

Layout: the plot area sits between fixed margins; the y axis always spans a
"nice" range (steps of 1, 2 or 5 times a power of ten, at least one dollar)
that includes zero, so a balance running off to nothing ends on the axis.
Each series is one `<polyline class="series">` (with `data-series` naming
it); points also get a small marker while there are few enough to tell
apart, so a single period still shows as a dot.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape as _xml_escape  # escape writes XML, it parses none # nosec B406

from ledger.domain.money import dollars_grouped, require_cents

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), the pool's near-black
# first; past the palette lines repeat the colours dashed, so no two series look the same.
PALETTE = ("#222222", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "7 4", "2 3", "9 3 2 3")

WIDTH, HEIGHT = 760, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 78, 170, 36, 46  # the right margin holds the legend
MIN_STEP_CENTS = 100  # y ticks are at least a dollar apart, also when every balance is zero
TARGET_TICKS = 5
MIN_LABEL_GAP = 64  # pixels between x labels; beyond that, only every k-th period is labelled
MARKERS_UP_TO = 36  # points per series drawn with a marker
LEGEND_ROW = 18
LEGEND_CHARS = 22  # what fits in the right margin at the chart's font size


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its name (for the legend) and one value in cents per x label."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the plot area sits and which values its bottom and top edges stand for."""

    left: float
    top: float
    width: float
    height: float
    y_min: int
    y_max: int
    count: int

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, index: int) -> float:
        if self.count <= 1:
            return self.left + self.width / 2  # a lone point sits in the middle
        return self.left + index * self.width / (self.count - 1)

    def y(self, cents: int) -> float:
        return self.bottom - (cents - self.y_min) * self.height / (self.y_max - self.y_min)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, element_id: str = "chart",
               width: int = WIDTH, height: int = HEIGHT, empty_text: str = "no data yet") -> str:
    """An SVG line chart of `series` (cents) over `labels`, as one `<svg>` element's text.

    With no labels at all it draws the empty axes and `empty_text` in the middle.
    """
    _check(labels, series)
    # The legend may need more room than the plot when there are many series.
    height = max(height, MARGIN_TOP + len(series) * LEGEND_ROW + MARGIN_BOTTOM)
    y_min, y_max, step = y_scale([v for s in series for v in s.values])
    frame = _Frame(left=MARGIN_LEFT, top=MARGIN_TOP, width=width - MARGIN_LEFT - MARGIN_RIGHT,
                   height=height - MARGIN_TOP - MARGIN_BOTTOM, y_min=y_min, y_max=y_max, count=len(labels))
    title_id = f"{element_id}-title"
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" id={_attr(element_id)} role="img" '
         f'aria-labelledby={_attr(title_id)} viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">'),
        f"<title id={_attr(title_id)}>{_text(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN_LEFT}" y="{MARGIN_TOP - 14}" font-size="13" font-weight="bold">{_text(title)}</text>',
        *_y_axis(frame, step),
        *_x_axis(frame, labels),
        *(_line(frame, labels, s, i) for i, s in enumerate(series)),
        *_legend(frame, series),
    ]
    if not labels:
        parts.append(f'<text x="{_num(frame.x(0))}" y="{_num(frame.top + frame.height / 2)}" '
                     f'text-anchor="middle" fill="#666666">{_text(empty_text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(labels)} labels")
        for value in s.values:
            require_cents(value, f"series {s.name!r}: value", negative=True)


def y_scale(values: Sequence[int]) -> tuple[int, int, int]:
    """The y axis's (bottom, top, step) in cents: nice steps, zero always included, never an empty range."""
    low, high = min([0, *values]), max([0, *values])
    step = nice_step(high - low)
    bottom = (low // step) * step
    top = -(-high // step) * step
    if top == bottom:
        top = bottom + step
    return bottom, top, step


def nice_step(span_cents: int, target: int = TARGET_TICKS) -> int:
    """The smallest step of 1, 2 or 5 times a power of ten (in cents, a dollar at least) giving ~target ticks."""
    raw = max(MIN_STEP_CENTS, -(-span_cents // target))
    magnitude = 10 ** (len(str(raw)) - 1)
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def tick_label(cents: int) -> str:
    """Compact dollars for an axis: $0, $500, $250k, $1.2M (ticks are whole dollars)."""
    sign, whole = ("-" if cents < 0 else ""), Decimal(abs(cents)) / 100
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if whole >= size:
            return f"{sign}${_plain(whole / size)}{suffix}"
    return f"{sign}${_plain(whole)}"


def _plain(value: Decimal) -> str:
    # normalize() drops trailing zeros; the "f" format keeps 10 from turning into 1E+1.
    return f"{value.normalize():f}"


def _y_axis(frame: _Frame, step: int) -> list[str]:
    out = [_segment(frame.left, frame.top, frame.left, frame.bottom, 'class="axis" stroke="#444444"')]
    for value in range(frame.y_min, frame.y_max + 1, step):
        y = frame.y(value)
        out.append(_segment(frame.left, y, frame.left + frame.width, y, f'class="grid" data-value="{value}" stroke="#e3e3e3"'))
        out.append(f'<text class="y-tick" x="{_num(frame.left - 6)}" y="{_num(y)}" dy="0.32em" '
                   f'text-anchor="end">{_text(tick_label(value))}</text>')
    return out


def _x_axis(frame: _Frame, labels: Sequence[str]) -> list[str]:
    out = [_segment(frame.left, frame.bottom, frame.left + frame.width, frame.bottom, 'class="axis" stroke="#444444"')]
    for i in labelled_indexes(len(labels), frame.width):
        out.append(_segment(frame.x(i), frame.bottom, frame.x(i), frame.bottom + 4, 'stroke="#444444"'))
        out.append(f'<text class="x-tick" x="{_num(frame.x(i))}" y="{_num(frame.bottom + 18)}" '
                   f'text-anchor="middle">{_text(labels[i])}</text>')
    return out


def labelled_indexes(count: int, plot_width: float) -> list[int]:
    """Which x positions get a label: all while they fit, else every k-th counted back from the latest."""
    if count == 0:
        return []
    fits = max(1, int(plot_width // MIN_LABEL_GAP) + 1)
    every = -(-count // fits)
    return [i for i in range(count) if (count - 1 - i) % every == 0]


def _style(index: int) -> tuple[str, str]:
    colour = PALETTE[index % len(PALETTE)]
    dash = DASHES[(index // len(PALETTE)) % len(DASHES)]
    return colour, (f' stroke-dasharray="{dash}"' if dash else "")


def _line(frame: _Frame, labels: Sequence[str], series: Series, index: int) -> str:
    colour, dash = _style(index)
    points = " ".join(f"{_num(frame.x(i))},{_num(frame.y(v))}" for i, v in enumerate(series.values))
    width = 2.5 if index == 0 else 2
    polyline = (f'<polyline class="series" data-series={_attr(series.name)} fill="none" stroke="{colour}" '
                f'stroke-width="{width}"{dash} stroke-linejoin="round" points="{points}">'
                f"<title>{_text(series.name)}</title></polyline>")
    out = ['<g class="series-group">', polyline]
    if len(series.values) <= MARKERS_UP_TO:
        out += [f'<circle cx="{_num(frame.x(i))}" cy="{_num(frame.y(v))}" r="3" fill="{colour}">'
                f"<title>{_text(f'{series.name} {labels[i]}: {dollars_grouped(v)}')}</title></circle>"
                for i, v in enumerate(series.values)]
    out.append("</g>")
    return "\n".join(out)


def _legend(frame: _Frame, series: Sequence[Series]) -> list[str]:
    x = frame.left + frame.width + 16
    out = ['<g class="legend">']
    for i, s in enumerate(series):
        colour, dash = _style(i)
        y = frame.top + i * LEGEND_ROW + 6
        out.append(_segment(x, y, x + 22, y, f'stroke="{colour}" stroke-width="2.5"{dash}'))
        # A long name is cut to fit the margin; the whole name stays in the line's and the entry's <title>.
        shown = s.name if len(s.name) <= LEGEND_CHARS else s.name[:LEGEND_CHARS - 1] + "…"
        out.append(f'<text class="legend-label" x="{_num(x + 28)}" y="{_num(y)}" dy="0.32em">'
                   f"<title>{_text(s.name)}</title>{_text(shown)}</text>")
    out.append("</g>")
    return out


def _segment(x1: float, y1: float, x2: float, y2: float, attributes: str) -> str:
    return f'<line {attributes} x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"/>'


def _num(value: float) -> str:
    return f"{value:.2f}"


def _text(value: str) -> str:
    return _xml_escape(_xml_chars(value))


def _attr(value: str) -> str:
    """A quoted, escaped attribute value."""
    return '"' + _xml_escape(_xml_chars(value), {'"': "&quot;"}) + '"'


# Control characters other than tab and newlines cannot appear in XML at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_chars(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))
