"""A progress bar for long command-line work (demo seeding, backups, restores, reports).

It draws on stderr, and only when stderr is a terminal: piped into a file, a log or a CI job, the
commands stay quiet. No dependency: one line redrawn with ``\\r`` a few times a second::

    seeding cases  [###########---------------]  43%  860/2000  57.1/s  0:19 left

``Progress.start`` returns a bar, or a silent one when nothing should be drawn, so callers never
check: ``with progress.start("backing up", total=n, unit="B") as bar: bar.advance(len(chunk))``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 26
REDRAW_SECONDS = 0.2


def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _amount(value: float, unit: str) -> str:
    if unit != "B":
        return f"{int(value)}"
    for suffix in ("B", "KB", "MB", "GB"):
        if value < 1024 or suffix == "GB":
            return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """One bar. ``total=None`` shows a count and a rate without a bar."""

    def __init__(
        self, label: str, total: int | None, *, unit: str = "", stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._width = 0

    @classmethod
    def start(
        cls, label: str, total: int | None = None, *, unit: str = "", stream: TextIO | None = None
    ) -> Progress:
        """A bar on ``stream`` (stderr) if it is a terminal, else a bar that draws nothing."""
        stream = stream if stream is not None else sys.stderr
        if not _interactive(stream):
            return Silent(label, total, unit=unit, stream=stream)
        return cls(label, total, unit=unit, stream=stream)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn_at >= REDRAW_SECONDS or (self.total is not None and self.done >= self.total):
            self._drawn_at = now
            self._draw(now)

    def set_label(self, label: str) -> None:
        self.label = label
        self._draw(time.monotonic())

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        speed = f"{_amount(rate, self.unit)}/s" if self.unit == "B" else f"{rate:.1f}/s"
        if self.total is None:
            return f"{self.label}  {_amount(self.done, self.unit)}  {speed}  {_clock(elapsed)}"
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        left = (self.total - self.done) / rate if rate > 0 and self.done < self.total else 0
        counts = f"{_amount(self.done, self.unit)}/{_amount(self.total, self.unit)}"
        tail = f"{_clock(left)} left" if self.done < self.total else f"{_clock(elapsed)}"
        return f"{self.label}  [{bar}] {share:4.0%}  {counts}  {speed}  {tail}"

    def _draw(self, now: float) -> None:
        text = self.line(now)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()


class Silent(Progress):
    """Counts like a bar, draws nothing (output is not a terminal)."""

    def _draw(self, now: float) -> None:
        return None

    def close(self) -> None:
        return None
