"""A step's logging: into its Snakemake log file, progress lines to the terminal, bad input on one line.

Each rule's script starts with :func:`log_to`. Afterwards:

- Python logging, warnings and stderr go to the rule's log file (``logs/…``);
- progress lines of long steps (:class:`Progress`) go to the log file and also to the
  terminal that runs the study, at most one every ``every_s`` seconds, so that a crawl of
  hours or a bootstrap of minutes is never silent;
- bad input (:class:`~perivigil.errors.InputError`) ends the step with one line, in the
  log and on the terminal, instead of a traceback; any other exception keeps its
  traceback in the log (it is a bug to report).
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from perivigil.errors import InputError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROGRESS = "perivigil.progress"
ERROR_PREFIX = "perivigil error: "


def log_to(path: str | Path, level: int = logging.INFO) -> None:
    """Log to ``path`` (replaced), capture ``warnings`` and redirect ``sys.stderr`` there too."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("w", encoding="utf-8", buffering=1)
    terminal = sys.__stderr__
    sys.stderr = stream
    logging.basicConfig(level=level, format=FORMAT, stream=stream, force=True)
    logging.captureWarnings(True)
    progress = logging.getLogger(PROGRESS)
    for handler in list(progress.handlers):
        progress.removeHandler(handler)
    if terminal is not None:
        echo = logging.StreamHandler(terminal)
        echo.setFormatter(logging.Formatter("%(message)s"))
        progress.addHandler(echo)
    sys.excepthook = functools.partial(_one_line_input_errors, log=path)


def _one_line_input_errors(kind, error, trace, log: Path) -> None:  # type: ignore[no-untyped-def]
    """``sys.excepthook``: bad input as one line (log and terminal); anything else as a traceback."""
    if isinstance(error, InputError):
        logging.getLogger("perivigil").error("%s%s", ERROR_PREFIX, error)
        if sys.__stderr__ is not None:
            print(f"{ERROR_PREFIX}{error} (log: {log})", file=sys.__stderr__, flush=True)
        return
    sys.__excepthook__(kind, error, trace)


class Progress:
    """Progress of a long step, logged at most once every ``every_s`` seconds, and once at the end.

    ``step`` names the step as the person running the study knows it ("collect demo_forum");
    ``total`` (when known) adds a percentage.
    """

    def __init__(
        self,
        step: str,
        unit: str,
        total: int | None = None,
        every_s: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self.step, self.unit, self.total, self.every_s = step, unit, total, every_s
        self.done = 0
        self._clock = clock
        self._logger = logger or logging.getLogger(PROGRESS)
        self._started = clock()
        self._last = self._started

    def advance(self, n: int = 1, detail: str = "") -> None:
        """Count ``n`` more units; log a line when ``every_s`` seconds passed since the last one."""
        self.done += n
        now = self._clock()
        if now - self._last >= self.every_s:
            self._last = now
            self._log(detail, now)

    def finish(self, detail: str = "") -> None:
        """The last line: what the step did in all."""
        self._log(detail, self._clock(), final=True)

    def _log(self, detail: str, now: float, final: bool = False) -> None:
        share = f" of {self.total:,} ({self.done / self.total:.0%})" if self.total else ""
        extra = f", {detail}" if detail else ""
        verb = "done" if final else "so far"
        self._logger.info(
            "[%s] %s: %s %s%s%s, %.0f s",
            self.step,
            verb,
            f"{self.done:,}",
            self.unit,
            share,
            extra,
            now - self._started,
        )
