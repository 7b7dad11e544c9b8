"""Progress of a night on the console: a rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from qc.run.plan import CallOutcome

if TYPE_CHECKING:
    from qc.run.night import NightSummary

__all__ = ["console_progress"]


class console_progress:  # noqa: N801 (used like a function: ``with console_progress() as p``)
    """Progress for :func:`score_night`: a rich bar on a terminal, plain log lines otherwise.

    The bar shows calls done, audio hours processed and the ETA; each failure is printed as it
    happens.
    """

    def __init__(self, stream=None, force_plain: bool = False):
        self.stream = stream or sys.stderr
        self.plain = force_plain or not self.stream.isatty()
        self._bar = None
        self._task = None

    def __enter__(self) -> console_progress:
        if not self.plain:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("calls"),
                TextColumn("{task.fields[hours]:.2f} h audio"), TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, outcome: CallOutcome, summary: NightSummary, total: int) -> None:
        done = len(summary.calls)
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("night", total=total, hours=0.0, failed=0)
            self._bar.update(self._task, completed=done, hours=summary.audio_seconds / 3600, failed=len(summary.failed))
            if outcome.status == "failed":
                self._bar.console.print(f"[red]FAILED[/red] {outcome.call_id}: {outcome.error}", markup=True, highlight=False)
            return
        what = {"scored": "scored", "resumed": "already done", "failed": "FAILED"}[outcome.status]
        extra = f": {outcome.error}" if outcome.error else (
            f" ({outcome.audio_seconds:.0f} s audio, {outcome.seconds:.1f} s{', cached transcript' if outcome.from_cache else ''})"
            if outcome.status == "scored" else "")
        print(f"[{done}/{total}] {outcome.call_id} {what}{extra}", file=self.stream, flush=True)

