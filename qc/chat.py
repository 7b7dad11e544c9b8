"""Import chat logs (CSV or JSON exports of IM, web or app chats) as transcripts.

A chat log is a table of messages with a sender, a time and the text::

    conversation_id,sender,time,text            # conversation_id is optional (default: file name)
    S1,客户,2024-05-01 10:00:05,在吗？我的订单还没发货
    S1,客服小王,2024-05-01 10:00:40,亲，在的，帮您查一下

or JSON: a list of such objects, or ``{"conversation_id": ..., "messages": [...]}``. Each message
becomes one utterance whose start and end are its time in seconds after the conversation's first
message, so timing rules that make sense for chat (response time) can judge it; the transcript's
``channel`` is ``chat`` and ``meta["started_at"]`` the first message's time. Who is the agent comes
from a ``role`` column (agent / customer, 坐席 / 客户 ...), else from the sender: names given as
``agents``, or senders that say what they are (客服…, agent…, 坐席…, 客户, 用户, customer…).

Every problem is a :class:`ChatLogError` naming the file and the line (CSV) or message (JSON), and
what to do.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from qc.types import Transcript, Utterance

__all__ = ["ChatLogError", "read_chat_log", "import_chat"]

_AGENT_ROLES = {"agent", "staff", "service", "客服", "坐席", "员工", "商家", "卖家", "seller", "helpdesk", "support"}
_CUSTOMER_ROLES = {"customer", "user", "client", "visitor", "客户", "用户", "顾客", "买家", "访客", "buyer"}
_AGENT_PREFIX = ("客服", "坐席", "agent", "staff", "support", "helpdesk", "店小二", "商家")
_CUSTOMER_PREFIX = ("客户", "用户", "顾客", "买家", "访客", "customer", "user", "visitor", "buyer")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")
_ID_COLUMNS = ("conversation_id", "session_id", "call_id", "会话id", "会话")


class ChatLogError(ValueError):
    """A chat log that cannot be imported; the message names the file and line and says what to do."""


def _seconds(value: Any, where: str) -> tuple[float, datetime | None]:
    """Seconds on some clock, and the datetime when the value carried a date."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, float)):
        return float(value), None
    text = str(value or "").strip()
    if not text:
        raise ChatLogError(f"{where}: the message has no time; give every message a time (2024-05-01 10:00:05, 10:00:05 or seconds)")
    try:
        return float(text), None
    except ValueError:
        pass
    m = _CLOCK.match(text)
    if m:
        h, mi, s, frac = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), m.group(4)
        if h < 24 and mi < 60 and s < 60:
            return h * 3600 + mi * 60 + s + (float("0." + frac) if frac else 0.0), None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = None
        for fmt in _TIME_FORMATS:
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        raise ChatLogError(f"{where}: time {text!r} is not a time; use 2024-05-01 10:00:05, 10:00:05 or seconds")
    return dt.timestamp(), dt


def _role(row: dict[str, Any], agents: set[str], where: str) -> str:
    role = str(row.get("role") or "").strip().lower()
    if role:
        if role in _AGENT_ROLES:
            return "agent"
        if role in _CUSTOMER_ROLES:
            return "customer"
        raise ChatLogError(f"{where}: role {row.get('role')!r} is neither agent nor customer; write agent / customer (or 客服 / 客户)")
    sender = str(row.get("sender") or "").strip()
    if not sender:
        raise ChatLogError(f"{where}: the message has no sender; every message needs a sender (or a role column)")
    low = sender.lower()
    if sender in agents or low in _AGENT_ROLES or low.startswith(_AGENT_PREFIX):
        return "agent"
    if low in _CUSTOMER_ROLES or low.startswith(_CUSTOMER_PREFIX) or agents:
        return "customer"  # with agents named, every other sender is a customer
    raise ChatLogError(f"{where}: cannot tell whether sender {sender!r} is the agent or the customer; "
                       f"add a role column or name the agents (qc import-chat --agent NAME)")


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, message) pairs of a CSV or JSON chat log; ``where`` is "line N" or "message N"."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ChatLogError(f"{path}: no such file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # Excel on Chinese Windows saves GBK
        except UnicodeDecodeError:
            raise ChatLogError(f"{path}: not UTF-8 or GB18030 text; save the chat log as CSV UTF-8 or JSON") from None
    if path.suffix.lower() in (".json", ".jsonl") or text.lstrip().startswith(("[", "{")):
        return _json_rows(path, text)
    reader = csv.DictReader(text.splitlines())
    columns = [(c or "").strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("time", "text") if c not in columns] + ([] if "sender" in columns or "role" in columns else ["sender"])
    if missing:
        raise ChatLogError(f"{path}:1: no {' / '.join(repr(c) for c in missing)} column (found: {', '.join(columns) or 'nothing'}); "
                           "a chat log needs sender, time and text columns")
    out = []
    for line, row in enumerate(reader, start=2):
        out.append((str(line), {(k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else v for k, v in row.items()}))
    return out


def _json_rows(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ChatLogError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    conv = None
    if isinstance(data, dict):
        conv = next((data[k] for k in _ID_COLUMNS if data.get(k)), None)
        data = data.get("messages")
    if not isinstance(data, list):
        raise ChatLogError(f"{path}:1: expected a list of messages or {{\"messages\": [...]}} with sender, time and text")
    out = []
    for n, msg in enumerate(data, start=1):
        if not isinstance(msg, dict):
            raise ChatLogError(f"{path}: message {n}: not an object with sender, time and text")
        row = {str(k).strip().lower(): v for k, v in msg.items()}
        if conv is not None:
            row.setdefault("conversation_id", conv)
        out.append((f"message {n}", row))
    return out


def read_chat_log(path: str | Path, agents: Iterable[str] = ()) -> list[Transcript]:
    """Read a CSV or JSON chat log into one transcript per conversation.

    Args:
        path: the log (see the module docstring for the columns).
        agents: sender names that are agents, when there is no ``role`` column and the senders do
            not say so themselves.

    Returns:
        Transcripts in the order their conversations first appear: ``channel`` "chat", one
        utterance per message with ``start`` = ``end`` = seconds after the conversation's first
        message, ``meta["started_at"]`` the first message's date and time when the log gives dates.

    Raises:
        ChatLogError: unreadable file, missing columns, a message without sender, time or text, a
            time that is not a time, or a message earlier than the one before it.
    """
    path = Path(path)
    agent_names = {a.strip() for a in agents if a.strip()}
    convs: dict[str, list[tuple[str, float, datetime | None, str, str]]] = {}
    for line, row in _rows(path):
        where = f"{path}:{line}" if line.isdigit() else f"{path}: {line}"
        conv = next((str(row[k]).strip() for k in _ID_COLUMNS if row.get(k) not in (None, "")), path.stem)
        text = row.get("text")
        if text is None or not str(text).strip():
            raise ChatLogError(f"{where}: the message has no text; remove the line or fill in the text")
        role = _role(row, agent_names, where)
        secs, dt = _seconds(row.get("time"), where)
        msgs = convs.setdefault(conv, [])
        if msgs and secs < msgs[-1][1]:
            raise ChatLogError(f"{where}: time {row.get('time')} is before the previous message of conversation {conv!r} "
                               f"({msgs[-1][0] if not msgs[-1][0].isdigit() else 'line ' + msgs[-1][0]}); sort the log by time")
        msgs.append((line, secs, dt, role, str(text).strip()))
    if not convs:
        raise ChatLogError(f"{path}: no messages")
    out = []
    for conv, msgs in convs.items():
        t0 = msgs[0][1]
        meta: dict[str, Any] = {"source": path.name}
        if msgs[0][2] is not None:
            meta["started_at"] = msgs[0][2].isoformat(sep=" ")
        utts = [Utterance(role=role, text=text, start=round(s - t0, 3), end=round(s - t0, 3)) for _, s, _, role, text in msgs]
        out.append(Transcript(call_id=conv, utterances=utts, meta=meta, channel="chat"))
    return out


def import_chat(paths: Iterable[str | Path], out_dir: str | Path, agents: Iterable[str] = ()) -> list[Path]:
    """Read chat logs and write one ``<conversation_id>.json`` transcript each into ``out_dir``.

    Raises:
        ChatLogError: a log that cannot be read (nothing is written for any log then), or two
            conversations with the same id.
    """
    from qc.transcript import save_transcript

    transcripts: dict[str, tuple[Transcript, Path]] = {}
    for p in paths:
        for t in read_chat_log(p, agents):
            if t.call_id in transcripts:
                raise ChatLogError(f"{p}: conversation {t.call_id!r} also appears in {transcripts[t.call_id][1]}; "
                                   "give each conversation its own conversation_id")
            transcripts[t.call_id] = (t, Path(p))
    out_dir = Path(out_dir)
    written = []
    for cid, (t, _) in transcripts.items():
        safe = re.sub(r"[^\w.\-]+", "_", cid)
        target = out_dir / f"{safe}.json"
        save_transcript(t, target)
        written.append(target)
    return written
