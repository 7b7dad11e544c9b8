"""Transcript cache: recognising a call once per (audio content, backend, model, options).

The key is a sha256 over the audio file's sha256 and a canonical JSON of the ASR settings, so
renaming or copying a recording still hits, and any change of model or decoding options misses.
Entries are transcript JSON files under ``$QC_CACHE_DIR/transcripts/<key[:2]>/<key>.json``,
written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from qc.transcript import TranscriptError, load_transcript, save_transcript
from qc.types import Transcript

__all__ = ["ASR_REVISION", "cache_dir", "cache_key", "transcript_cache_key", "TranscriptCache"]

log = logging.getLogger(__name__)

# Part of every key: bump it when what qc does to Whisper's output changes (segmentation into
# utterances, the hallucination guard, t2s, spacing), so an upgraded qc recognises again instead
# of serving transcripts an older version made.
ASR_REVISION = 11  # 5: hotwords, loop trimming, VAD padding; 6: mono roles from voice clustering; 7/8: turn-taking for short mono replies; 9: over 5 min of speech on a channel recognised 5 min at a time; 10: words not placed in the audio at a segment end cut; 11: speech a trimmed loop ran over recognised again


def cache_dir() -> Path:
    """Root of qc's caches (models, transcripts): ``$QC_CACHE_DIR`` or ``~/.cache/qc``."""
    env = os.environ.get("QC_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qc"


def cache_key(audio_sha256: str, backend: str, model: str, options: dict[str, Any]) -> str:
    """Stable hex key for one recognition of one recording."""
    blob = json.dumps(
        {"audio": audio_sha256, "backend": backend, "model": model, "options": options, "qc": ASR_REVISION},
        sort_keys=True,
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def transcript_cache_key(transcript: Transcript) -> str | None:
    """The cache key a finished transcript was made under (``None`` for hand-written ones)."""
    if transcript.audio is None or transcript.asr is None:
        return None
    a = transcript.asr
    return cache_key(transcript.audio.sha256, a.backend, a.model, a.options)


class TranscriptCache:
    """A folder of finished transcripts addressed by :func:`cache_key`.

    Args:
        root: cache folder; defaults to ``$QC_CACHE_DIR/transcripts`` (``~/.cache/qc/transcripts``).
    """

    def __init__(self, root: str | Path | None = None):
        if root is None:
            root = cache_dir() / "transcripts"
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Transcript | None:
        """The cached transcript, or ``None`` (a damaged entry counts as a miss and is removed)."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            return load_transcript(p)
        except TranscriptError as e:
            log.warning("dropping damaged cache entry %s: %s", p, e)
            p.unlink(missing_ok=True)
            return None

    def put(self, key: str, transcript: Transcript) -> Path | None:
        """Store a transcript atomically (owner-only) and return its path.

        A cache that cannot be written (disk full, read-only) only costs a later re-recognition:
        the failure is logged and ``None`` returned, and the caller keeps the transcript.
        """
        p = self.path(key)
        try:
            for folder in (self.root, p.parent):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            save_transcript(transcript, p)  # mkstemp + rename: the file is 0600
        except OSError as e:
            log.warning("%s: cannot write the transcript cache (%s); the transcript is kept for this run only",
                        p, e.strerror or e)
            return None
        return p
