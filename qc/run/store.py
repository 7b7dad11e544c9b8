"""One JSON file per scored call: what the batch writes and ``qc report`` reads.

Layout: ``out_dir/calls/<call_id>.json`` holding ``{"schema_version", "transcript", "inspection",
"emotion", "score"}``. Files are written atomically (temp file + rename), so a report run
concurrently with a night batch never reads half a file. They hold the raw, unmasked transcript
(the source for re-review), so the folder is owner-only (0700) and each file 0600.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

from qc.transcript import write_json_atomic
from qc.types import CallResult, to_dict

__all__ = ["CallResult", "ResultsError", "RESULTS_VERSION", "result_path", "result_dict", "save_call_result", "load_call_results", "iter_call_results"]

RESULTS_VERSION = 1


class ResultsError(ValueError):
    """A results folder or file that cannot be read; the message names the file."""


_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def result_path(out_dir: str | Path, call_id: str) -> Path:
    """Where a call's result lives: ``out_dir/calls/<call_id>.json`` (unsafe characters become ``_``)."""
    name = _UNSAFE.sub("_", call_id).strip(".") or "_"
    return Path(out_dir) / "calls" / f"{name}.json"


def save_call_result(result: CallResult, out_dir: str | Path) -> Path:
    """Write one call's result atomically and return its path."""
    path = result_path(out_dir, result.call_id)
    _private_folder(path.parent)
    write_json_atomic(result_dict(result), path)  # a temp file made by mkstemp: owner-only (0600)
    return path


def result_dict(result: CallResult) -> dict[str, Any]:
    """The saved form of a call's result: ``schema_version`` then the four records."""
    return {"schema_version": RESULTS_VERSION, **to_dict(result)}


def _private_folder(folder: Path) -> None:
    """Create ``folder`` owner-only (0700): results keep the raw transcripts (docs/security.md)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)


def iter_call_results(out_dir: str | Path) -> Iterator[CallResult]:
    """Yield results from ``out_dir/calls/*.json`` (or ``out_dir`` itself if it holds the files), by file name.

    Raises:
        ResultsError: the folder has no results, or a file is not a call result.
    """
    out_dir = Path(out_dir)
    folder = out_dir / "calls" if (out_dir / "calls").is_dir() else out_dir
    if not folder.is_dir():
        raise ResultsError(f"{out_dir}: no such folder; pass the folder the night batch wrote (it holds calls/)")
    files = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    if not files:
        raise ResultsError(f"{folder}: no call results (*.json); run the night batch first")
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            yield CallResult.from_dict(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ResultsError(f"{path}: not a JSON call result ({e})") from None
        except (KeyError, TypeError, ValueError) as e:
            raise ResultsError(f"{path}: not a call result: missing or bad field {e}") from None


def load_call_results(out_dir: str | Path) -> list[CallResult]:
    """All results in a folder, ordered by call id (see :func:`iter_call_results`)."""
    return sorted(iter_call_results(out_dir), key=lambda r: r.call_id)
