"""The nights the workbench serves: their ranked queue, call index, call results and audio.

A night folder is what ``qc score --out`` (or ``qc report``) wrote: ``calls/<call_id>.json`` and,
when the report ran, ``night.json`` whose ``queue`` is :func:`qc.report.queue.build_queue`'s output.
The queue and the call index come from ``night.json`` (one file, read once); a night scored with
``--no-report`` has its queue built from the call files. Call results are read on demand and
kept in a small cache. Nothing here writes to the night.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.report.redact import redact_text
from qc.run.store import CallResult, ResultsError, load_call_results, result_path

__all__ = ["Night", "CallRow", "NightError", "AudioRefused", "load_nights"]


class NightError(ValueError):
    """A night folder that cannot be served; the message names the folder and what to do."""


class AudioRefused(LookupError):
    """A call's audio that the app will not serve (missing, or outside the night's folders)."""


@dataclass
class CallRow:
    """What the queue page needs of one call (no transcript)."""

    call_id: str
    agent_id: str | None
    team: str
    score: float
    passed: bool
    fatal: bool
    rules: set[str] = field(default_factory=set)  # rules with a deduction or a pending / rejected hit
    priority: float = 0.0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    calibration: bool = False
    queued: bool = False
    rank: int | None = None

    @property
    def risk(self) -> bool:
        return any(r.get("code") == "risk" for r in self.reasons)


def _rules_of(score: dict[str, Any]) -> set[str]:
    return {d["rule"] for item in score.get("items", []) for d in item.get("deductions", [])}


def _night_of(results: list[CallResult]) -> str | None:
    """The night (YYYY-MM-DD) from the calls' metadata, as ``qc report`` picks it."""
    for r in results:
        for key in ("night", "date", "start_time", "started_at"):
            value = r.transcript.meta.get(key)
            if value and re.match(r"\d{4}-\d{2}-\d{2}", str(value)):
                return str(value)[:10]
    return None


class Night:
    """One served night folder."""

    def __init__(self, folder: str | Path, audio_roots: list[Path] | tuple[Path, ...] = (), cache_size: int = 64):
        self.dir = Path(folder).resolve()
        if not (self.dir / "calls").is_dir():
            raise NightError(f"{folder}: no calls/ folder; pass the folder `qc score --out` wrote")
        self._cache: OrderedDict[str, CallResult] = OrderedDict()
        self._cache_size = cache_size
        night_json = self.dir / "night.json"
        if night_json.exists():
            try:
                data = json.loads(night_json.read_text(encoding="utf-8"))
                self.name = str(data["summary"]["night"])
                self.summary = data["summary"]
                self.rows = self._rows_from_report(data)
            except (ValueError, KeyError, TypeError) as e:
                raise NightError(f"{night_json}: not a qc night report ({e}); run qc report on {folder} again") from None
        else:
            self._rows_from_results()
        roots = [self.dir] + [Path(r).resolve() for r in audio_roots]
        roots += self._source_roots()
        self.audio_roots = list(dict.fromkeys(roots))
        self.queue = sorted((r for r in self.rows.values() if r.queued or r.calibration),
                            key=lambda r: (r.calibration, r.rank if r.rank is not None else 0))
        self.queued_ids = {r.call_id for r in self.queue if not r.calibration}
        self.calibration_ids = {r.call_id for r in self.queue if r.calibration}
        self.teams = sorted({r.team for r in self.rows.values()})
        self.agents = sorted({r.agent_id for r in self.rows.values() if r.agent_id})
        self.rules = sorted({c for r in self.rows.values() for c in r.rules})

    def _rows_from_report(self, data: dict[str, Any]) -> dict[str, CallRow]:
        rows: dict[str, CallRow] = {}
        for c in data["calls"]:
            s = c["score"]
            rows[c["call_id"]] = CallRow(c["call_id"], c.get("agent_id"), c.get("team") or "未分组", float(s["score"]),
                                         bool(s["passed"]), bool(s.get("fatal")), _rules_of(s))
        for rank, q in enumerate(data.get("queue", []), start=1):
            row = rows.get(q["call_id"])
            if row is None:
                continue
            for reason in q["reasons"]:  # a night reported with --no-redact kept the numbers
                reason["text"] = redact_text(reason.get("text") or "")
                if reason.get("evidence"):
                    reason["evidence"]["text"] = redact_text(reason["evidence"].get("text") or "")
            row.priority, row.reasons, row.calibration, row.rank = float(q["priority"]), q["reasons"], bool(q["calibration"]), rank
            row.queued = not row.calibration
        return rows

    def _rows_from_results(self) -> None:
        from qc.report.queue import build_queue
        from qc.report import redact_result

        try:
            results = load_call_results(self.dir)
        except ResultsError as e:
            raise NightError(str(e)) from None
        self.name = _night_of(results) or self.dir.name
        self.summary = {"night": self.name, "calls": len(results)}
        self.rows = {}
        for r in results:
            self.rows[r.call_id] = CallRow(r.call_id, r.transcript.agent_id, str(r.transcript.meta.get("team") or "未分组"),
                                           r.score.score, r.score.passed, r.score.fatal,
                                           {d.rule for i in r.score.items for d in i.deductions})
        from dataclasses import asdict

        for rank, q in enumerate(build_queue([redact_result(r) for r in results], seed=self.name), start=1):
            row = self.rows[q.call_id]
            row.priority, row.reasons, row.calibration, row.rank = q.priority, [asdict(x) for x in q.reasons], q.calibration, rank
            row.queued = not q.calibration

    def _source_roots(self) -> list[Path]:
        """Folders the night's recordings were read from (``night_summary.json``)."""
        summary = self.dir / "night_summary.json"
        roots: list[Path] = []
        if summary.exists():
            try:
                for c in json.loads(summary.read_text(encoding="utf-8")).get("calls", []):
                    if c.get("source") and c.get("kind", "audio") != "transcript":
                        roots.append(Path(os.path.abspath(c["source"])).parent.resolve())
            except (ValueError, AttributeError):
                pass
        return roots

    def result(self, call_id: str) -> CallResult | None:
        """The call's full result (transcript, findings, emotion, machine score), or None if not in this night."""
        if call_id not in self.rows:
            return None
        hit = self._cache.get(call_id)
        if hit is not None:
            self._cache.move_to_end(call_id)
            return hit
        path = result_path(self.dir, call_id)
        try:
            result = CallResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._cache[call_id] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def audio_path(self, call_id: str) -> Path:
        """The call's recording, if it lies inside the night folder or a folder the night read audio from.

        Raises:
            AudioRefused: no recording, the file is gone, or its path leads outside those folders.
        """
        result = self.result(call_id)
        if result is None or result.transcript.audio is None or not result.transcript.audio.path:
            raise AudioRefused(f"call {call_id} has no recording")
        raw = Path(result.transcript.audio.path)
        candidates = [raw] if raw.is_absolute() else [Path.cwd() / raw, self.dir / raw]
        for cand in candidates:
            real = cand.resolve()
            if not any(real.is_relative_to(root) for root in self.audio_roots):
                continue
            if real.is_file():
                return real
        raise AudioRefused(f"call {call_id}: the recording {raw} is missing or outside the night's folders")


_SAFE_NIGHT = re.compile(r"^[\w.\-]+$")


def load_nights(folders: list[str | Path], audio_roots: list[Path] | tuple[Path, ...] = ()) -> dict[str, Night]:
    """Load night folders, keyed by night (``YYYY-MM-DD``); two folders of one night are refused."""
    nights: dict[str, Night] = {}
    for folder in folders:
        n = Night(folder, audio_roots)
        if not _SAFE_NIGHT.match(n.name):
            raise NightError(f"{folder}: night name {n.name!r} has characters a URL cannot carry")
        if n.name in nights:
            raise NightError(f"{folder}: night {n.name} is already served from {nights[n.name].dir}; pass one folder per night")
        nights[n.name] = n
    return nights
