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
            if _LeanFeatures.fits(self._model.feature_extractor):
                self._model.feature_extractor = _LeanFeatures(self._model.feature_extractor)
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


class _LeanFeatures:
    """faster-whisper's log-mel features computed a block of frames at a time: the same numbers
    (tests/test_hardening_memory.py), without its whole-stream STFT (0.8 MB per second of
    speech: 230 MB for 5 min)."""

    BLOCK = 2880  # frames at a time (29 s; a multiple of every BLAS tile width)

    def __init__(self, inner: Any):
        self._inner = inner

    @staticmethod
    def fits(inner: Any) -> bool:
        """The extractor is the one this mirrors (Whisper's 400-point STFT, 160-sample hop)."""
        return (type(inner).__name__ == "FeatureExtractor" and getattr(inner, "n_fft", None) == 400
                and getattr(inner, "hop_length", None) == 160 and hasattr(inner, "mel_filters"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
        fe = self._inner
        if chunk_length is not None:
            fe.n_samples = chunk_length * fe.sampling_rate
            fe.nb_max_frames = fe.n_samples // fe.hop_length
        x = np.asarray(waveform, dtype=np.float32)
        if padding:
            x = np.pad(x, (0, padding))
        n_fft, hop = fe.n_fft, fe.hop_length
        x = np.pad(x, (n_fft // 2, n_fft // 2), mode="reflect")
        n_frames = 1 + (len(x) - n_fft) // hop - 1  # the last frame is dropped, as faster-whisper does
        window = np.hanning(n_fft + 1)[:-1].astype("float32")
        out = np.empty((fe.mel_filters.shape[0], max(n_frames, 0)), dtype=np.float32)
        f0 = 0
        while f0 < n_frames:
            f1 = min(f0 + self.BLOCK, n_frames)
            if n_frames - f1 < 64:  # a narrow last block would take BLAS's matrix-vector path: other rounding
                f1 = n_frames
            part = x[f0 * hop: (f1 - 1) * hop + n_fft]
            frames = np.lib.stride_tricks.as_strided(part, (f1 - f0, n_fft), (hop * part.strides[0], part.strides[0]))
            spec = np.fft.rfft(frames * window, n=n_fft, axis=-1).astype("complex64").T
            out[:, f0:f1] = np.log10(np.clip(fe.mel_filters @ (np.abs(spec) ** 2), a_min=1e-10, a_max=None))
            f0 = f1
        out = np.maximum(out, out.max() - 8.0)
        return (out + 4.0) / 4.0
