"""faster-whisper backend (CTranslate2; int8 on CPU): the default, for speed."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from qc.asr.guard import RawSegment
from qc.asr.models import resolve_model
from qc.asr.transcriber import Transcriber
from qc.types import Word

__all__ = ["FasterWhisperTranscriber"]

log = logging.getLogger(__name__)


class FasterWhisperTranscriber(Transcriber):
    """Whisper through CTranslate2 (int8 on CPU).

    Args:
        model: None for the offline base model, a model name (downloads) or a local CT2 folder.
        device: "cpu" or "cuda".
        compute_type: CTranslate2 compute type; int8 is fastest on CPU.
        cpu_threads: 0 lets CTranslate2 choose.
        **options: decoding options (language, beam_size, vad, guard_* thresholds, ...).
    """

    backend = "faster-whisper"

    def __init__(self, model: str | None = None, device: str = "cpu", compute_type: str = "int8",
                 cpu_threads: int = 0, **options: Any):
        path, name = resolve_model(model)
        super().__init__(name, {"compute_type": compute_type, **options})
        self._load_args = (path, device, compute_type, cpu_threads)
        self._model = None

    def _whisper(self):
        """The model, loaded on first use (a run where every call is cached never loads it)."""
        if self._model is None:
            from faster_whisper import WhisperModel

            path, device, compute_type, cpu_threads = self._load_args
            log.info("loading faster-whisper model %s (%s, %s)", self.model_name, device, compute_type)
            self._model = WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        return self._model

    def recognize(self, samples: np.ndarray, prompt: str | None = None) -> list[RawSegment]:
        o = self.options
        segments, _info = self._whisper().transcribe(
            np.ascontiguousarray(samples, dtype=np.float32),
            language=o["language"],
            beam_size=int(o["beam_size"]),
            vad_filter=False,  # the Transcriber has cut the silence out already
            word_timestamps=bool(o["word_timestamps"]),
            condition_on_previous_text=bool(o["condition_on_previous_text"]),
            hotwords=prompt or None,
        )
        out = []
        for s in segments:
            words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or [])]
            out.append(RawSegment(float(s.start), float(s.end), s.text, words, float(s.avg_logprob),
                                  float(s.no_speech_prob), float(s.compression_ratio)))
        return out
