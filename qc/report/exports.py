"""Tabular exports for QA teams (CSV and Excel with Chinese column names) and JSON for machines.

Every text cell is neutralised against formula injection (the OWASP CSV-injection rule): a cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
that Excel, LibreOffice and Google Sheets show it as text instead of running it. Numbers stay
numbers (a negative score is written as ``-3``, not as text). Every file is written atomically
(a temp file renamed over the old one), so a failed export leaves the previous file intact.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = [
    "CALL_COLUMNS", "FINDING_COLUMNS", "QUEUE_COLUMNS", "AGENT_COLUMNS", "FAILED_COLUMNS", "PERCENT_COLUMNS",
    "ExportError", "safe_cell", "atomic_open", "write_text_atomic", "write_csv", "write_xlsx", "write_json",
]

CALL_COLUMNS = ["通话ID", "坐席工号", "班组", "得分", "是否合格", "一票否决", "待复核命中", "违规数", "客户负面峰值", "情绪走向", "投诉等级", "风险", "重复来电", "复核优先级", "不满意概率", "未解决概率", "复核得分", "复核后是否合格", "复核人"]
FINDING_COLUMNS = ["通话ID", "坐席工号", "规则编号", "规则名称", "类别", "严重程度", "类型", "扣分", "状态", "开始(秒)", "角色", "原文", "说明", "复核结论"]
QUEUE_COLUMNS = ["排名", "通话ID", "坐席工号", "班组", "得分", "优先级", "原因", "证据时间(秒)", "证据原文", "随机抽检"]
AGENT_COLUMNS = ["坐席工号", "班组", "通话数", "平均分", "合格率", "一票否决通话", "组内排名", "班组人数", "首次解决率", "重复来电", "主要问题", "机器平均分", "已复核通话", "平均分口径"]
FAILED_COLUMNS = ["通话ID", "文件", "错误"]
#: columns holding a fraction (0.5) that Excel shows as a percentage (50.0%)
PERCENT_COLUMNS = frozenset({"合格率", "首次解决率"})

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UMASK = os.umask(0o022)  # read once, at import (os.umask can only be read by setting it)
os.umask(_UMASK)


class ExportError(OSError):
    """A report file that could not be written; the message names the file and what to do."""


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[Any]:
    """Open a temp file beside ``path``; on success it replaces ``path``, on failure it is removed.

    Raises:
        ExportError: the folder is not writable or the disk is full (the message names ``path``).
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise ExportError(_write_error(path, e)) from None
    os.chmod(tmp, 0o644 & ~_UMASK)  # mkstemp makes 0600; reports are as readable as any file the user writes
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(_write_error(path, e)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_error(path: Path, e: OSError) -> str:
    reason = e.strerror or str(e)
    return f"{path}: cannot write ({reason}); free disk space or choose another --out folder"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a UTF-8 text file atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_csv(path: Path, columns: list[str], rows: Iterable[list[Any]]) -> None:
    """UTF-8 with BOM so that Excel opens the Chinese headers correctly; text cells neutralised."""
    with atomic_open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([safe_cell(c) for c in columns])
        w.writerows([safe_cell(v) for v in row] for row in rows)


def _width(value: Any) -> float:
    text = f"{100 * value:.1f}%" if isinstance(value, float) and 0 <= value <= 1 else str(value)
    # a CJK character is about two Latin ones wide
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(path: Path, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> None:
    """One workbook, one sheet per ``(title, columns, rows)``; written in openpyxl's streaming mode.

    Text cells are neutralised like the CSV ones, columns named in :data:`PERCENT_COLUMNS` show as
    percentages, and each column is as wide as its longest cell (between 6 and 60 characters).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for title, columns, rows in sheets:
        rows = [list(r) for r in rows]
        ws = wb.create_sheet(title=title[:31])
        ws.freeze_panes = "A2"
        for i, c in enumerate(columns):
            longest = max([_width(c)] + [_width(r[i]) for r in rows[:2000] if i < len(r)])
            ws.column_dimensions[get_column_letter(i + 1)].width = min(60, max(6, longest + 2))
        header = []
        for c in columns:
            cell = WriteOnlyCell(ws, value=safe_cell(c))
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        percent = {i for i, c in enumerate(columns) if c in PERCENT_COLUMNS}
        for row in rows:
            out = []
            for i, v in enumerate(row):
                if i in percent and isinstance(v, (int, float)) and not isinstance(v, bool):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = "0.0%"
                    out.append(cell)
                else:
                    out.append(safe_cell(v))
            ws.append(out)
    with atomic_open(path, "wb") as f:
        buf = io.BytesIO()
        wb.save(buf)
        f.write(buf.getvalue())


def write_json(path: Path, data: Any) -> None:
    """Compact UTF-8 JSON, written atomically."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))  # no indent: the C encoder, 5x faster
        f.write("\n")
