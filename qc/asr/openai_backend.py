"""openai-whisper backend (PyTorch reference implementation).

Install: ``pip install torch==2.13.0 numba tiktoken more-itertools`` then
``pip install --no-deps openai-whisper`` (its wheel otherwise pulls triton, ~1 GB).

By default it runs the same offline base weights as faster-whisper: the CTranslate2 model is
converted once to ``openai-whisper.pt`` next to it (see :mod:`qc.asr.convert`). Audio is given
as a 16 kHz float32 array decoded by PyAV, so the ``ffmpeg`` program is not needed. Silence is
skipped by the shared Transcriber (Silero VAD, :mod:`qc.asr.stream`), as for faster-whisper.
"""

from __future__ import annotations

import base64
import gzip
import logging
from pathlib import Path
from typing import Any

import numpy as np

from qc.asr.guard import RawSegment
from qc.asr.models import resolve_model
from qc.asr.transcriber import Transcriber
from qc.run.cache import cache_dir
from qc.types import Word

__all__ = ["OpenAIWhisperTranscriber", "openai_checkpoint"]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "openai-whisper.pt"


def openai_checkpoint(ct2_dir: str | Path) -> Path:
    """The openai-whisper checkpoint for a CT2 model folder, converting it on first use.

    The .pt sits next to the CT2 model when that folder is writable (the offline model's cache
    folder is), otherwise under ``$QC_CACHE_DIR/models``.
    """
    from qc.asr.convert import convert_ct2_to_openai

    ct2_dir = Path(ct2_dir)
    target = ct2_dir / CHECKPOINT_NAME
    model_bin = ct2_dir / "model.bin"
    if not _fresh(target, model_bin):
        import os

        if not os.access(ct2_dir, os.W_OK):
            target = cache_dir() / "models" / f"{ct2_dir.name}-{CHECKPOINT_NAME}"
        if not _fresh(target, model_bin):
            log.info("converting %s to an openai-whisper checkpoint %s (once)", ct2_dir, target)
            convert_ct2_to_openai(ct2_dir, target)
    return target


def _fresh(target: Path, source: Path) -> bool:
    return target.is_file() and target.stat().st_mtime >= source.stat().st_mtime


def _heads_dump(heads: list[tuple[int, int]], n_layer: int, n_head: int) -> bytes:
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


class OpenAIWhisperTranscriber(Transcriber):
    """Whisper through openai-whisper on PyTorch.

    Args:
        model: None for the offline base model (converted from CT2), a model name (downloads),
            a ``.pt`` checkpoint, or a CT2 model folder (converted).
        device: "cpu" or "cuda".
        threads: torch intra-op threads (0 keeps torch's default).
        **options: decoding options (language, beam_size, vad, guard_* thresholds, ...).
    """

    backend = "openai-whisper"

    def __init__(self, model: str | None = None, device: str = "cpu", threads: int = 0, **options: Any):
        import importlib.util

        missing = [m for m in ("torch", "whisper") if importlib.util.find_spec(m) is None]
        if missing:
            e = f"missing module(s): {', '.join(missing)}"
            raise ImportError(
                f"the openai-whisper backend needs torch and openai-whisper ({e}); install with: "
                "pip install torch==2.13.0 numba tiktoken more-itertools && pip install --no-deps openai-whisper"
            )
        path, name = resolve_model(model)
        super().__init__(name, {"fp16": False, **options})
        self._load_args = (path, device, threads)
        self._model = None

    def _whisper(self):
        """The model, loaded (and converted from CT2 if needed) on first use."""
        if self._model is None:
            import torch
            import whisper

            from qc.asr.convert import alignment_heads

            path, device, threads = self._load_args
            if threads:
                torch.set_num_threads(threads)
            heads: list[tuple[int, int]] = []
            p = Path(path)
            if p.is_dir() and (p / "model.bin").is_file():
                heads = alignment_heads(p)
                checkpoint = str(openai_checkpoint(p))
            else:
                checkpoint = path  # a .pt file or an official model name
            log.info("loading openai-whisper model %s on %s", self.model_name, device)
            model = whisper.load_model(checkpoint, device=device)
            if heads:
                # Loaded by path, openai-whisper cannot know the heads; without them word times drift.
                dims = model.dims
                model.set_alignment_heads(_heads_dump(heads, dims.n_text_layer, dims.n_text_head))
            self._model = model
        return self._model

    def recognize(self, samples: np.ndarray, prompt: str | None = None) -> list[RawSegment]:
        import whisper

        o = self.options
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        result = whisper.transcribe(
            self._whisper(),
            audio,
            language=o["language"],
            beam_size=int(o["beam_size"]),
            best_of=5,
            word_timestamps=bool(o["word_timestamps"]),
            condition_on_previous_text=bool(o["condition_on_previous_text"]),
            fp16=bool(o["fp16"]),
            initial_prompt=prompt or None,  # the hotwords, as faster-whisper gives them
            verbose=None,
        )
        segments = []
        for s in result["segments"]:
            words = [Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                     for w in s.get("words") or []]
            segments.append(RawSegment(float(s["start"]), float(s["end"]), s["text"], words,
                                       float(s["avg_logprob"]), float(s["no_speech_prob"]),
                                       float(s["compression_ratio"])))
        return segments
