"""Read and write transcript JSON files (the format every stage reads).

The format is documented by ``qc/schemas/transcript.schema.json``. Audio-derived
transcripts carry times and ASR confidence; hand-written or chat-log transcripts need only
``call_id`` and utterances with ``role`` and ``text``.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from qc.types import Transcript, to_dict

__all__ = ["TranscriptError", "SCHEMA_VERSION", "load_transcript", "save_transcript", "write_json_atomic", "schema"]

SCHEMA_VERSION = 1


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the file and the problem."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The transcript JSON Schema shipped with the package."""
    text = resources.files("qc.schemas").joinpath("transcript.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _validate(data: Any, path: Path) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors[:10]:
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            lines.append(f"{path}: {where}: {err.message}")
        more = f"\n... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise TranscriptError(
            "\n".join(lines) + more + "\nfix the transcript (see qc/schemas/transcript.schema.json)"
        )


def load_transcript(path: str | Path) -> Transcript:
    """Load and validate one transcript JSON file.

    Raises:
        TranscriptError: the file is missing, not JSON, or does not match the schema.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TranscriptError(f"{path}: not UTF-8 text; is this an audio file rather than a transcript?") from None
    except json.JSONDecodeError as e:
        raise TranscriptError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    _validate(data, path)
    for i, u in enumerate(data["utterances"]):
        if u.get("start") is not None and u.get("end") is not None and u["end"] < u["start"]:
            raise TranscriptError(f"{path}: utterances/{i}: end {u['end']} is before start {u['start']}")
    data.pop("schema_version", None)
    return Transcript.from_dict(data)


def write_json_atomic(data: Any, path: str | Path) -> None:
    """Write JSON so that readers never see a half-written file (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_transcript(transcript: Transcript, path: str | Path) -> None:
    """Write a transcript atomically in the documented format."""
    data = {"schema_version": SCHEMA_VERSION, **to_dict(transcript)}
    write_json_atomic(data, path)
