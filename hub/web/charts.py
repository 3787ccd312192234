"""Server-side SVG charts (matplotlib): readable in print and without colour — every series has its own
marker and line style and a direct label. Charts are drawn only from published indicator values.

Text size (WCAG 1.4.4 / 1.4.10): every text is drawn at :data:`FONT_SIZE` SVG units; an SVG scales
with the page (``width: 100%``) up to :data:`MAX_SCALE` times its drawn width (an inline ``max-width``).
Text shrinks below 12 px only where the page is narrower than the chart, so each chart comes in two
variants (:func:`responsive`): a wide one (about 520 units) and a narrow one (about 280 units, which
fits a 320 px phone at full size); the stylesheet shows the narrow one below 40em, the PDF gets the
wide one.

Thread-safe: every chart is a ``matplotlib.figure.Figure`` of its own, written by ``fig.savefig``
(never pyplot and its global figure list), so the web server's threads draw side by side.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from typing import Sequence

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))
# Colour-blind-safe palette (Okabe–Ito); colour is a bonus, never the only cue.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: Every chart text, in SVG units (= CSS px at the chart's own width, the largest it is shown).
FONT_SIZE = 12
#: Figure sizes in inches (72 SVG units each): the wide variant and the one for phones.
WIDE = (7.5, 3.6)
NARROW = (3.6, 3.6)
#: How far an SVG may grow past its drawn size on a wide page (text up to 18 px).
MAX_SCALE = 1.5


#: The chart style, set once in matplotlib's global rcParams before the first chart and never changed
#: after: figures drawn at the same time on several threads read it, none writes it.
STYLE = {
    "svg.fonttype": "none",  # text stays text: searchable, scalable, checkable by tests
    "svg.hashsalt": "jeugdhub",  # deterministic element ids
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_STYLE_LOCK = threading.Lock()
_styled = False


def _figure(figsize: tuple[float, float]):
    """A new figure of its own (matplotlib's object API, no pyplot): nothing is shared with a chart
    being drawn on another thread, and nothing needs closing (it is garbage once its SVG is written)."""
    global _styled
    import matplotlib
    from matplotlib.figure import Figure

    if not _styled:
        with _STYLE_LOCK:
            if not _styled:
                matplotlib.rcParams.update(STYLE)
                _styled = True
    return Figure(figsize=figsize)


def _svg(fig, title: str, variant: str = "wide") -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None, "Title": title})
    text = buf.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can be inlined in HTML.
    start = text.find("<svg")
    svg = text[start:]
    # Ids unique per chart and variant: several SVGs share one page (matplotlib numbers from figure_1).
    prefix = "c" + hashlib.sha1(f"{variant}:{title}".encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = svg.replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")
    # Size in CSS px (1 unit = 1 px), shown at most MAX_SCALE times that wide: text is FONT_SIZE px where
    # the page is as wide as the chart, and shrinks only where the page is narrower.
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if size:
        w, h = (float(v) for v in size.groups())
        svg = svg.replace(size.group(0), f'width="{w:.0f}" height="{h:.0f}" style="max-width: {MAX_SCALE * w:.0f}px"', 1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_escape(title)}" ', 1)


def responsive(draw, *args, for_pdf: bool = False, **kwargs) -> str:
    """Both variants of a chart (``draw(*args, narrow=..., **kwargs)``); the stylesheet shows one of them.

    The PDF (A4) gets the wide one only. Drawn once per input: hub/cache.py keeps the result under a
    digest of the function, every argument and this module's code (charts are pure functions of them).
    """
    from hub import cache

    parts = ("responsive", _code_fingerprint(), draw, args, tuple(sorted(kwargs.items())), for_pdf)
    return cache.chart(parts, lambda: _responsive(draw, *args, for_pdf=for_pdf, **kwargs))


_FINGERPRINT: list[str] = []


def _code_fingerprint() -> str:
    """This module's source and matplotlib's version: a changed chart is a new cache key."""
    if not _FINGERPRINT:
        import matplotlib
        from pathlib import Path

        source = Path(__file__).read_bytes() + matplotlib.__version__.encode()
        _FINGERPRINT.append(hashlib.sha256(source).hexdigest())
    return _FINGERPRINT[0]


def _responsive(draw, *args, for_pdf: bool = False, **kwargs) -> str:
    wide = draw(*args, **kwargs)
    if for_pdf:
        return wide
    narrow = draw(*args, narrow=True, **kwargs)
    return f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}</div>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _nl(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def _tick(x: float, _pos=None) -> str:
    """An axis tick in Dutch: decimal comma ("12,5"), thousands dot ("1.200"), no needless ",0"."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}".replace(",", ".")
    return f"{x:.1f}".replace(".", ",") if abs(x * 10 - round(x * 10)) < 1e-9 else f"{x:.2f}".replace(".", ",")


def _dutch_ticks(*axes) -> None:
    from matplotlib.ticker import FuncFormatter

    for ax in axes:
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))


def spread_labels(ys: Sequence[float], min_gap: float) -> list[float]:
    """Label heights near ``ys`` (same order) that are at least ``min_gap`` apart: end labels of lines
    that finish close together do not overlap. Pushes labels apart symmetrically around their mean."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    for _ in range(50):
        moved = False
        for k in range(1, len(placed)):
            gap = placed[k] - placed[k - 1]
            if gap < min_gap - 1e-9:
                shift = (min_gap - gap) / 2
                placed[k - 1] -= shift
                placed[k] += shift
                moved = True
        if not moved:
            break
    out = [0.0] * len(ys)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out


def trend_chart(series: dict[str, Sequence[tuple[str, float | None, float | None, float | None]]], title: str,
                show_intervals: bool = False, narrow: bool = False) -> str:
    """Clients per 100 pupils per school year, one line per series.

    ``series``: label → [(schooljaar, per_100 or None, low or None, high or None)]. A year without a
    published rate is a gap in the line (nothing is interpolated).
    """
    years = sorted({p[0] for pts in series.values() for p in pts})
    fig = _figure(NARROW if narrow else WIDE)
    ax = fig.subplots()
    x_of = {y: i for i, y in enumerate(years)}
    top = 0.0
    ends: list[tuple[str, float, float]] = []  # (label, x, y) of each line's last published point
    for i, (label, points) in enumerate(series.items()):
        xs = [x_of[p[0]] for p in points]
        ys = [p[1] if p[1] is not None else math.nan for p in points]
        style = dict(marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i % len(LINESTYLES)],
                     color=COLOURS[i % len(COLOURS)], linewidth=1.8, markersize=6, label=label)
        ax.plot(xs, ys, **style)
        if show_intervals:
            for x, p in zip(xs, points):
                if p[1] is not None and p[2] is not None:
                    ax.errorbar([x], [p[1]], yerr=[[p[1] - p[2]], [p[3] - p[1]]], color=style["color"], capsize=4, linewidth=1)
                    top = max(top, p[3])
        published = [(x, y) for x, y in zip(xs, ys) if not math.isnan(y)]
        if published:
            top = max(top, max(y for _, y in published))
            ends.append((label, *published[-1]))
    y_top = max(5.0, top * 1.15)
    if not narrow:  # the narrow variant has no room beside the lines: its legend names them
        # About 1.4 lines of text apart on the axis: the end labels keep that distance.
        height = (NARROW if narrow else WIDE)[1]
        heights = spread_labels([y for _, _, y in ends], y_top * 0.075 * 3.4 / height * FONT_SIZE / 8)
        for (label, x_last, y_last), y_text in zip(ends, heights):
            ax.annotate(f"{label} ({_nl(y_last)})", (x_last, y_last), xytext=(x_last + 0.08, y_text), textcoords="data",
                        va="center", fontsize=FONT_SIZE,
                        arrowprops=dict(arrowstyle="-", color="#777777", linewidth=0.6) if abs(y_text - y_last) > 1e-6 else None)
    ax.set_xticks(range(len(years)), years)
    if narrow:
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlim(-0.3, max(len(years) - 1, 1) + (0.3 if narrow else 1.2))
    ax.set_ylim(0, y_top)
    _dutch_ticks(ax)
    ax.set_ylabel("cliënten per 100 leerlingen")
    ax.grid(axis="y", linestyle=":", linewidth=0.6, color="#999999")
    if narrow:
        ax.legend(loc="upper left", bbox_to_anchor=(-0.25, -0.3), fontsize=FONT_SIZE, frameon=False, ncol=1)
    elif len(series) > 1:
        ax.legend(loc="upper left", fontsize=FONT_SIZE, frameon=False, ncol=min(3, len(series)))
    if not any(not math.isnan(y) for pts in series.values() for y in [p[1] if p[1] is not None else math.nan for p in pts]):
        ax.text(0.5, 0.5, "geen gepubliceerde cijfers", transform=ax.transAxes, ha="center", va="center")
    return _svg(fig, title, "narrow" if narrow else "wide")


def funnel_chart(funnel, title: str, highlight: str | None = None, narrow: bool = False) -> str:
    """Funnel plot: each school's rate against its pupils, with the type's pooled rate and 95 % / 99,8 % limits.

    Schools outside the viewer's scope come without a pupil count (``FunnelPoint.anonymous``): they are
    drawn in a strip beside the funnel at their rate only, spread in their (rate) order, so no position
    says how big a school is.
    """
    variant = "narrow" if narrow else "wide"
    size = (NARROW[0] - 0.8, NARROW[1]) if narrow else (WIDE[0], WIDE[1] + 0.4)  # narrow: room for the y label
    anonymous = [p for p in funnel.points if p.anonymous]
    fig = _figure(size)
    if anonymous and funnel.limits:
        ax, strip = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3 if narrow else 5, 1], "wspace": 0.05})
    else:
        ax = fig.subplots()
        strip = None
    if not funnel.limits:
        message = "geen vergelijking beschikbaar (gemiddelde van het schooltype afgeschermd)"
        ax.text(0.5, 0.5, message.replace(" (", "\n(").replace("van het ", "van het\n") if narrow else message,
                transform=ax.transAxes, ha="center", va="center", wrap=True)
        ax.set_axis_off()
        return _svg(fig, title, variant)
    ns = [lim.n for lim in funnel.limits]
    ax.plot(ns, [100 * lim.upper_998 for lim in funnel.limits], linestyle=":", color="#444444", linewidth=1.2, label="99,8 %-grens")
    ax.plot(ns, [100 * lim.lower_998 for lim in funnel.limits], linestyle=":", color="#444444", linewidth=1.2)
    ax.plot(ns, [100 * lim.upper_95 for lim in funnel.limits], linestyle="--", color="#444444", linewidth=1.2, label="95 %-grens")
    ax.plot(ns, [100 * lim.lower_95 for lim in funnel.limits], linestyle="--", color="#444444", linewidth=1.2)
    ax.axhline(funnel.pooled.per_100, color="#000000", linewidth=1.4, label=f"gemiddelde {funnel.schooltype} ({_nl(funnel.pooled.per_100)})")
    others = [p for p in funnel.points if p.vestigingscode != highlight and not p.anonymous]
    ax.scatter([p.leerlingen for p in others], [p.per_100 for p in others], marker="o", s=22,
               facecolors="none", edgecolors="#0072B2", linewidths=1.0, label="andere scholen")
    mine = [p for p in funnel.points if p.vestigingscode == highlight]
    if mine:
        p = mine[0]
        ax.scatter([p.leerlingen], [p.per_100], marker="D", s=70, color="#D55E00", edgecolors="#000000", linewidths=1.2,
                   zorder=5, label="deze school")
        # Away from the mean line: above the point when it lies above the mean (or on it), else below.
        above = p.per_100 >= funnel.pooled.per_100
        ax.annotate("deze school", (p.leerlingen, p.per_100), xytext=(8, 10 if above else -10), textcoords="offset points",
                    fontsize=FONT_SIZE, fontweight="bold", va="bottom" if above else "top",
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    if strip is not None:
        strip.scatter([(i % 3 - 1) * 0.25 for i in range(len(anonymous))], [p.per_100 for p in anonymous], marker="o",
                      s=22, facecolors="none", edgecolors="#0072B2", linewidths=1.0)
        strip.axhline(funnel.pooled.per_100, color="#000000", linewidth=1.4)
        strip.set_xlim(-1, 1)
        strip.set_xticks([])
        strip.set_xlabel("andere\nscholen\n(zonder\naantal)" if narrow else "andere scholen\n(zonder aantal)")
        strip.tick_params(axis="y", left=False)
        strip.spines["left"].set_visible(False)
        strip.grid(axis="y", linestyle=":", linewidth=0.6, color="#bbbbbb")
    top = max([100 * lim.upper_998 for lim in funnel.limits[len(funnel.limits) // 6:]] + [p.per_100 for p in funnel.points] + [5])
    ax.set_ylim(0, top * 1.1)
    ax.set_xlim(0, ns[-1])
    ax.set_xlabel("aantal leerlingen (gedekt)")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    _dutch_ticks(ax, *([strip] if strip is not None else []))
    ax.set_ylabel("cliënten per 100 leerlingen")
    ax.grid(linestyle=":", linewidth=0.6, color="#bbbbbb")
    # Below the plot: inside it would cover the largest schools, which sit on the right.
    if narrow:
        ax.tick_params(axis="x", labelrotation=45)
        ax.legend(loc="upper left", bbox_to_anchor=(-0.25, -0.3), ncol=1, fontsize=FONT_SIZE, frameon=False)
    else:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=FONT_SIZE, frameon=False)
    return _svg(fig, title, variant)
