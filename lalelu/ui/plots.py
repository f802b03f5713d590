"""Live plots of the last seconds: per-stage and end-to-end latency, each hit's latency to its sound, frame-interval
jitter, latency histogram.

pyqtgraph's habit: the curves are made once; each redraw hands them new data with setData from a ring buffer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from lalelu.report import stage_ns

STAGES = (  # (stage of lalelu.report.stage_ns, colour)
    ("wait", (150, 150, 150)),
    ("inference", (90, 160, 255)),
    ("detect", (255, 170, 60)),
    ("midi", (200, 100, 255)),
)
E2E_COLOR = (255, 80, 80)
SOUND_COLOR = (90, 230, 120)       # frame ready -> sound out, one dot per hit (the built-in sound on JACK)
WINDOW_S = 10.0


class Ring:
    """Fixed-size history of floats; `view()` is contiguous without copying (each value is written twice)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._data = np.zeros(2 * capacity, dtype=np.float64)
        self._next = 0
        self.count = 0

    def push(self, value: float) -> None:
        self._data[self._next] = value
        self._data[self._next + self.capacity] = value
        self._next = (self._next + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)

    def view(self) -> np.ndarray:
        start = self._next + self.capacity - self.count
        return self._data[start:start + self.count]

    def clear(self) -> None:
        self._next = 0
        self.count = 0


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50... at or above value: axis ranges that change rarely."""
    value = max(float(value), 1e-9)
    step = 10.0 ** np.floor(np.log10(value))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * step >= value * (1 - 1e-9):
            return m * step
    return 10.0 * step


class LivePlots(pg.GraphicsLayoutWidget):
    """Feed it TraceRecords with add_records(); redraw() (from the window's timer) updates the curves."""

    def __init__(self, parent: QWidget | None = None, capacity: int = 2048, window_s: float = WINDOW_S):
        super().__init__(parent)
        self.window_s = window_s
        self.setBackground((24, 24, 28))
        self._t = Ring(capacity)           # capture time of completed frames (ns, as float)
        self._stages = [Ring(capacity) for _ in STAGES]
        self._e2e = Ring(capacity)
        self._interval_t = Ring(capacity)
        self._interval = Ring(capacity)
        self._last_capture = 0
        self._drops = Ring(capacity)       # capture time of dropped frames
        self._sound_t = Ring(capacity)     # capture time of the frames whose hits sounded
        self._sound = Ring(capacity)       # their frame ready -> sound out, ms
        self.changed = False               # new data since the last redraw
        self.show_all = False              # x axis: the last window_s seconds (live) or everything (a trace)

        # The title is the legend: a legend box inside the plot would hide the newest points.
        legend = " ".join(f"<span style='color:rgb{color}'>{label}</span>" for label, color in STAGES)
        self.latency_plot = self.addPlot(row=0, col=0, title=(
            f"latency (ms): <span style='color:rgb{E2E_COLOR}'><b>end to end</b></span> {legend} "
            f"<span style='color:rgb{SOUND_COLOR}'>sound out</span>"))
        self.stage_curves = [self.latency_plot.plot(pen=pg.mkPen(color, width=1), name=label)
                             for label, color in STAGES]
        self.e2e_curve = self.latency_plot.plot(pen=pg.mkPen(E2E_COLOR, width=2), name="end to end")
        self.sound_curve = self.latency_plot.plot(pen=None, symbol="o", symbolSize=5, symbolPen=None,
                                                  symbolBrush=SOUND_COLOR, name="sound out")
        self.jitter_plot = self.addPlot(row=1, col=0, title="frame interval (ms)")
        self.jitter_curve = self.jitter_plot.plot(pen=pg.mkPen((80, 220, 200), width=1))
        self.hist_plot = self.addPlot(row=0, col=1, rowspan=2, title="end-to-end histogram (ms)")
        self.hist_curve = self.hist_plot.plot(stepMode="center", fillLevel=0,
                                              brush=(255, 80, 80, 120), pen=pg.mkPen(E2E_COLOR))
        for plot in (self.latency_plot, self.jitter_plot, self.hist_plot):
            plot.disableAutoRange()   # ranges move in steps (nice_ceiling): the axes are not redrawn each time
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        for plot in (self.latency_plot, self.jitter_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setXRange(-window_s, 0, padding=0)
        self._ranges: dict[str, tuple[float, float]] = {}
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 2)

    def reset(self) -> None:
        """Forgets the history (not `clear`: GraphicsLayoutWidget.clear would remove the plots)."""
        for ring in (self._t, self._e2e, self._interval_t, self._interval, self._drops, self._sound_t, self._sound,
                     *self._stages):
            ring.clear()
        self._last_capture = 0
        self._ranges.clear()
        self.show_all = False
        self.changed = True

    def add_records(self, records) -> None:
        for rec in records:
            if rec.t_capture and self._last_capture and rec.t_capture > self._last_capture:
                self._interval_t.push(float(rec.t_capture))
                self._interval.push((rec.t_capture - self._last_capture) / 1e6)
            if rec.t_capture:
                self._last_capture = rec.t_capture
            if rec.dropped:
                self._drops.push(float(rec.t_capture))
            elif rec.t_sent:   # went all the way through: the frames stage_ns measures, in the same order
                self._t.push(float(rec.t_capture))
            for stamp in rec.sounds:
                self._sound_t.push(float(stamp.t_capture))
                self._sound.push(stamp.latency_ns / 1e6)
        stages = stage_ns(records)
        for (name, _), ring in zip(STAGES, self._stages):
            for value in stages[name]:
                ring.push(value / 1e6)
        for value in stages["e2e"]:
            self._e2e.push(value / 1e6)
        if records:
            self.changed = True

    def set_records(self, records) -> None:
        """Shows a whole recorded trace (the x axis then spans all of it)."""
        self.reset()
        self.show_all = True
        self.add_records(records)
        self.redraw()

    def e2e_ms(self) -> np.ndarray:
        return self._e2e.view()

    def summary(self) -> dict:
        """Figures for the numbers beside the plots: over the last window_s seconds while live (the history
        holds more), over everything for a recorded trace; "over" says which."""
        e2e, t, drops = self._e2e.view(), self._t.view(), self._drops.view()
        sound, sound_t = self._sound.view(), self._sound_t.view()
        if t.size and not self.show_all:
            start = t[-1] - self.window_s * 1e9
            first = int(np.searchsorted(t, start))
            e2e, t = e2e[first:], t[first:]
            drops = drops[drops >= start]
            sound = sound[sound_t >= start]
        span_s = (t[-1] - t[0]) / 1e9 if t.size > 1 else 0.0
        return {
            "fps": (t.size - 1) / span_s if span_s > 0 else 0.0,
            "drops": int(drops.size),
            "e2e_p50_ms": float(np.percentile(e2e, 50)) if e2e.size else float("nan"),
            "e2e_p99_ms": float(np.percentile(e2e, 99)) if e2e.size else float("nan"),
            "sound_p50_ms": float(np.percentile(sound, 50)) if sound.size else float("nan"),
            "sound_p99_ms": float(np.percentile(sound, 99)) if sound.size else float("nan"),
            "over": "the whole trace" if self.show_all else f"last {self.window_s:g} s",
        }

    def redraw(self) -> None:
        """Called by the window's timer; cheap when nothing new arrived."""
        if not self.changed:
            return
        self.changed = False
        t = self._t.view()
        if t.size:
            x = (t - t[-1]) / 1e9
            for curve, ring in zip(self.stage_curves, self._stages):
                curve.setData(x, ring.view())
            e2e = self._e2e.view()
            self.e2e_curve.setData(x, e2e)
            sound = self._sound.view()
            self.sound_curve.setData((self._sound_t.view() - t[-1]) / 1e9, sound)
            top = nice_ceiling(max(float(e2e.max()), float(sound.max()) if sound.size else 0.0, 1.0) * 1.1)
            self._set_range("latency_y", self.latency_plot, y=(0.0, top))
            self._set_range("latency_x", self.latency_plot, x=(self._x_start(x), 0.0))
            # the histogram spans the bulk (to p99.5); rarer spikes are seen in the latency plot
            hist_top = nice_ceiling(max(float(np.percentile(e2e, 99.5)), 1.0) * 1.2)
            counts, edges = np.histogram(np.minimum(e2e, hist_top), bins=50, range=(0.0, hist_top))
            self.hist_curve.setData(edges, counts)
            self._set_range("hist_x", self.hist_plot, x=(0.0, hist_top))
            self._set_range("hist_y", self.hist_plot, y=(0.0, nice_ceiling(max(int(counts.max()), 1) * 1.1)))
        it = self._interval_t.view()
        if it.size:
            x = (it - it[-1]) / 1e9
            intervals = self._interval.view()
            self.jitter_curve.setData(x, intervals)
            self._set_range("jitter_y", self.jitter_plot, y=(0.0, nice_ceiling(float(intervals.max()) * 1.1)))
            self._set_range("jitter_x", self.jitter_plot, x=(self._x_start(x), 0.0))

    def _x_start(self, x: np.ndarray) -> float:
        """Live: the last window_s seconds; a whole recorded trace: all of it."""
        return min(-self.window_s, float(x[0])) if self.show_all else -self.window_s

    def _set_range(self, key: str, plot, x: tuple[float, float] | None = None,
                   y: tuple[float, float] | None = None) -> None:
        wanted = x if x is not None else y
        if self._ranges.get(key) == wanted:
            return
        self._ranges[key] = wanted
        if x is not None:
            plot.setXRange(*x, padding=0)
        else:
            plot.setYRange(*y, padding=0)
