"""ASR stage: recordings in, role-tagged Simplified-Chinese transcripts out.

>>> from qc.ingest import decode_audio
>>> from qc.asr import load_transcriber
>>> t = load_transcriber()                      # faster-whisper, offline Whisper base, int8
>>> transcript = t.transcribe(decode_audio("call.wav"), call_id="call")

:func:`transcribe_call` is the per-call piece the run layer calls (``qc score`` through
:mod:`qc.run.pipeline`, ``qc transcribe`` through :mod:`qc.run.transcribe`): one recording through
the transcript cache. Whisper and torch are imported only when a model is first used.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from qc.asr.transcriber import DEFAULT_CHANNEL_MAP, Transcriber, parse_channel_map
from qc.run.cache import TranscriptCache
from qc.ingest import AudioError, CallMeta, DecodedAudio, decode_audio, file_sha256
from qc.types import Transcript

__all__ = [
    "BACKENDS",
    "DEFAULT_CHANNEL_MAP",
    "Transcriber",
    "load_transcriber",
    "parse_channel_map",
    "transcribe_call",
    "with_call",
]

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = ("faster-whisper", "openai-whisper")


def load_transcriber(backend: str = "faster-whisper", model: str | None = None, **options: Any) -> Transcriber:
    """Make a transcriber; the model itself loads on first use.

    Args:
        backend: "faster-whisper" (default, CTranslate2 int8) or "openai-whisper" (PyTorch).
        model: None for the offline Whisper base weights, a model name (small, large-v3, ...;
            downloads where the internet is reachable) or a local model path.
        **options: backend and decoding options: language ("zh"), beam_size (5), vad (True),
            device, compute_type (faster-whisper), threads (openai-whisper), guard_* thresholds,
            split_gap / join_gap (seconds).

    Raises:
        ValueError: unknown backend.
        ImportError: the openai-whisper extra is not installed (the message says how).
    """
    if backend in ("faster-whisper", "faster_whisper", "ct2"):
        from qc.asr.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(model, **options)
    if backend in ("openai-whisper", "openai_whisper", "whisper", "openai"):
        from qc.asr.openai_backend import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(model, **options)
    raise ValueError(f"unknown ASR backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


def with_call(t: Transcript, call: CallMeta, audio_path: str) -> Transcript:
    """A cached recognition re-labelled for this call (same audio may have another name)."""
    t.call_id = call.call_id
    t.agent_id = call.agent_id
    asr_notes = {k: v for k, v in t.meta.items() if k.startswith("asr_")}
    t.meta = {**call.meta, **asr_notes}
    if t.audio is not None:
        t.audio.path = audio_path
    return t


def transcribe_call(
    path: str | Path,
    transcriber: Transcriber,
    call: CallMeta | None = None,
    channel_map: str | Sequence[str] | None = None,
    cache: TranscriptCache | None = None,
    force: bool = False,
    audio: DecodedAudio | None = None,
) -> tuple[Transcript, bool]:
    """Transcribe one recording, through the transcript cache.

    Args:
        path: the recording.
        transcriber: from :func:`load_transcriber`.
        call: call metadata (default: call_id = file stem).
        channel_map: roles of the channels of a stereo file.
        cache: transcript cache (default ``$QC_CACHE_DIR/transcripts``).
        force: recognise again even when cached.
        audio: the recording already decoded (the night batch decodes once for ASR and voice
            emotion); decoded here when not given.

    Returns:
        ``(transcript, from_cache)``.

    Raises:
        AudioError: the file cannot be decoded (the message names it and says what to do).
    """
    path = Path(path)
    call = call or CallMeta(call_id=path.stem)
    cache = cache or TranscriptCache()
    if audio is None and not path.is_file():
        raise AudioError(f"{path}: no such file; check the path")
    sha256 = audio.info.sha256 if audio is not None else file_sha256(path)
    key = transcriber.cache_key(sha256, channel_map)
    if not force:
        hit = cache.get(key)
        if hit is not None:
            return with_call(hit, call, str(path)), True
    if audio is None:
        audio = decode_audio(path, sample_rate=None)
    transcript = transcriber.transcribe(
        audio, call_id=call.call_id, agent_id=call.agent_id, meta=dict(call.meta), channel_map=channel_map
    )
    cache.put(key, transcript)
    return transcript, False
