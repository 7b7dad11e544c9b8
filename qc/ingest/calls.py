"""Find call recordings and attach call metadata: calls.csv, filename patterns, the file stem;
duplicate call ids refused with both paths named."""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from qc.ingest.audio import AUDIO_EXTENSIONS, AudioError

__all__ = ["AUDIO_EXTENSIONS", "MetadataError", "CallMeta", "call_metadata", "discover_audio", "duplicate_call_id",
           "load_call_table", "parse_filename", "warn_link"]

log = logging.getLogger(__name__)




# Columns of calls.csv with a fixed meaning; every other column is carried into Transcript.meta.
_KNOWN_COLUMNS = ("call_id", "agent_id", "file")



class MetadataError(ValueError):
    """A calls.csv or filename pattern that cannot be used; the message says how to fix it."""


@dataclass
class CallMeta:
    """Who and what a recording is: from calls.csv, a filename pattern, or the file stem."""

    call_id: str
    agent_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def duplicate_call_id(path: str | Path, call_id: str, first: str | Path) -> str:
    """The error for a second file that maps to a call id another file already has."""
    return (f"{path}: call_id {call_id!r} is already used by {first}; "
            "give a calls.csv or --pattern that makes call ids unique")




def discover_audio(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted, de-duplicated list of audio files.

    Folders are searched recursively for known audio extensions; a file named explicitly is
    kept whatever its extension (so that a bad file is reported rather than silently skipped).

    Raises:
        AudioError: a path does not exist.
    """
    found: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith("."):
                    found[f] = None
                elif f.is_symlink():
                    warn_link(f)
        elif p.is_file():
            found[p] = None
        else:
            raise AudioError(f"{p}: no such file or folder; check the path")
    return list(found)


def warn_link(path: Path) -> None:
    """Log why a symbolic link met while searching a folder is skipped (a loop, a dangling link, a folder)."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        log.warning("%s: symbolic link loop, skipped; fix or remove the link", path)
        return
    except OSError as e:
        problem = "symbolic link loop" if "loop" in str(e).lower() else "symbolic link to nothing"
        log.warning("%s: %s, skipped; fix or remove the link", path, problem)
        return
    if target.is_dir():
        log.warning("%s: symbolic link to the folder %s is not followed; pass that folder itself to include it", path, target)


def load_call_table(path: str | Path) -> dict[str, CallMeta]:
    """Read calls.csv into ``{key: CallMeta}``.

    The file needs a ``call_id`` column; ``agent_id`` becomes the transcript's agent id and
    every other column (agent_name, team, started_at, queue, ...) goes into ``meta``. A
    ``channel`` column (voice / chat / ticket, or 电话 / 在线 / 工单) says how the customer came in;
    rules read it through :attr:`qc.types.Transcript.contact_channel`. Rows
    are found by ``call_id`` (matched against the file stem) or, when present, by a ``file``
    column holding the recording's file name.

    Raises:
        MetadataError: missing file, no call_id column, a duplicated call_id, or an unknown channel.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MetadataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="gb18030")  # Excel on Chinese Windows saves GBK
        except UnicodeDecodeError:
            raise MetadataError(f"{path}: not UTF-8 or GB18030 text; save it as CSV UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "call_id" not in columns:
        raise MetadataError(f"{path}:1:1: no 'call_id' column (found: {', '.join(columns) or 'nothing'})")
    table: dict[str, CallMeta] = {}
    for lineno, row in enumerate(reader, start=2):
        extra = [v for v in (row.get(None) or []) if (v or "").strip()]
        if extra:
            log.warning("%s:%d: %d cell(s) beyond the %d header columns dropped (%s); quote cells that contain commas",
                        path, lineno, len(extra), len(columns), ", ".join(repr(v) for v in extra[:3]))
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        call_id = row.get("call_id", "")
        if not call_id:
            raise MetadataError(f"{path}:{lineno}:1: empty call_id")
        meta = {k: v for k, v in row.items() if k not in _KNOWN_COLUMNS and v != ""}
        if "channel" in meta:
            meta["channel"] = _channel(meta["channel"], f"{path}:{lineno}")
        entry = CallMeta(call_id=call_id, agent_id=row.get("agent_id") or None, meta=meta)
        keys = [call_id] + ([row["file"], Path(row["file"]).name, Path(row["file"]).stem] if row.get("file") else [])
        if call_id in table and table[call_id].call_id == call_id:
            raise MetadataError(f"{path}:{lineno}:1: call_id {call_id!r} appears twice")
        for key in keys:
            table[key] = entry
    return table


_CHANNEL_NAMES = {
    "voice": "voice", "phone": "voice", "call": "voice", "电话": "voice", "语音": "voice", "热线": "voice",
    "chat": "chat", "im": "chat", "online": "chat", "web": "chat", "app": "chat", "在线": "chat", "文字": "chat", "聊天": "chat",
    "ticket": "ticket", "email": "ticket", "e-mail": "ticket", "mail": "ticket", "form": "ticket", "工单": "ticket", "邮件": "ticket",
}


def _channel(value: str, where: str) -> str:
    """calls.csv's channel column as voice / chat / ticket (电话, 在线, 工单... accepted)."""
    got = _CHANNEL_NAMES.get(value.strip().lower())
    if got is None:
        raise MetadataError(f"{where}: channel {value!r} is not voice, chat or ticket (电话 / 在线 / 工单 also work)")
    return got


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", pattern)
    out, seen = [], set()
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name in seen:
                raise MetadataError(f"filename pattern {pattern!r}: field {{{name}}} is used twice")
            seen.add(name)
            out.append(f"(?P<{name}>.+?)")
        else:
            out.append(re.escape(part))
    if "call_id" not in seen and "agent_id" not in seen and not seen:
        raise MetadataError(f"filename pattern {pattern!r} has no {{fields}}; e.g. '{{agent_id}}_{{call_id}}.wav'")
    return re.compile("^" + "".join(out) + "$")


def parse_filename(path: str | Path, pattern: str) -> dict[str, str] | None:
    """Match a file name against a pattern such as ``{agent_id}_{call_id}.wav``.

    A pattern without an extension matches the file stem. Returns the fields, or ``None``
    when the name does not fit.
    """
    p = Path(path)
    regex = _pattern_regex(pattern)
    name = p.name if Path(pattern).suffix else p.stem
    m = regex.match(name)
    return m.groupdict() if m else None


def call_metadata(
    path: str | Path,
    table: dict[str, CallMeta] | None = None,
    pattern: str | None = None,
) -> CallMeta:
    """Metadata for one recording: calls.csv row first, then filename pattern, then the stem.

    A file that matches neither keeps its stem as call_id and says so in ``meta['meta_source']``
    so a reviewer can see metadata is missing.
    """
    p = Path(path)
    fields: dict[str, str] = {}
    if pattern:
        fields = parse_filename(p, pattern) or {}
    call_id = fields.get("call_id") or p.stem
    if table:
        row = table.get(p.name) or table.get(str(p)) or table.get(p.stem) or table.get(call_id)
        if row is not None:
            extra = {k: v for k, v in fields.items() if k not in ("call_id", "agent_id")}
            return CallMeta(
                call_id=row.call_id,
                agent_id=row.agent_id or fields.get("agent_id"),
                meta={**extra, **row.meta, "meta_source": "calls.csv"},
            )
    if fields:
        extra = {k: v for k, v in fields.items() if k not in ("call_id", "agent_id")}
        return CallMeta(call_id=call_id, agent_id=fields.get("agent_id"), meta={**extra, "meta_source": "filename"})
    return CallMeta(call_id=p.stem, meta={"meta_source": "none"} if (table or pattern) else {})
