"""What Whisper is given: a channel's speech with the silence cut out, and the way back.

Silero VAD (as bundled with faster-whisper) finds the speech chunks of one channel; they are laid
one after the other, with a short silence between them, and recognised as one stream, so long
silence costs nothing; every word is then mapped back to the time it was said. Both backends get
the same stream, so they cut silence alike. Butting the chunks end to end with 200 ms of padding
cut first syllables (「广州市」 heard as 「国中市」); 400 ms of padding and up to 0.5 s of silence
before each chunk were chosen by measurement (docs/transcription.md).

Each stereo channel gets its own stream. Packing both channels' speech into one stream (fewer
30-s Whisper windows) was measured on the sample calls and left out: 5 % faster, but the
customer side's CER rose from 0.127 to 0.17-0.19 (short replies between the agent's lines were
dropped, and words at a change of speaker went to the wrong side). See docs/transcription.md.

Memory does not grow with the call: the VAD reads the channel in blocks of 64 s, carrying the
model's state from one block to the next as faster-whisper does between its batches (the
result is the same to the sample), and :func:`groups` hands Whisper the speech a few minutes
at a time.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import numpy as np

from qc.asr.guard import RawSegment
from qc.types import Word

__all__ = ["Piece", "groups", "pack", "speech_chunks", "unpack"]

SAMPLE_RATE = 16000
VAD_WINDOW, VAD_CONTEXT = 512, 64  # Silero's window and the context it sees before it
# faster-whisper runs the model on 10,000 windows at once (85 MB of working memory, kept by
# onnxruntime's arena); the model carries its state from window to window, so 1,000 at a time
# give the same probabilities (tests/test_hardening_memory.py)
VAD_BATCH = 1000
VAD_BLOCK = VAD_WINDOW * 2 * VAD_BATCH  # 64 s: the channel is read this much at a time
#: most seconds of packed speech recognised at once: a longer stream is recognised in groups
MAX_STREAM_S = 300.0


@dataclass(frozen=True)
class Piece:
    """One speech chunk, placed in the stream."""

    start: float  # seconds in the channel
    end: float
    offset: float  # seconds in the stream where it begins

    def to_channel_time(self, t: float) -> float:
        return min(max(t - self.offset, 0.0), self.end - self.start) + self.start


def speech_chunks(samples: Any, pad_ms: int = 400, min_silence_ms: int = 500,
                  merge_gap: float = 0.0) -> list[tuple[int, int]]:
    """(start, end) sample indices of the speech in one 16 kHz channel.

    Silero VAD (as bundled with faster-whisper) with ``pad_ms`` of padding each side and pauses
    under ``min_silence_ms`` bridged; chunks then less than ``merge_gap`` seconds apart are
    merged, pause included. ``samples`` is an array or a :class:`qc.ingest.Signal`, read
    :data:`VAD_BLOCK` samples at a time.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

    n = len(samples)
    if not n:
        return []
    options = VadOptions(min_silence_duration_ms=int(min_silence_ms), speech_pad_ms=int(pad_ms))
    model = get_vad_model()
    if hasattr(model, "session"):
        found = _timestamps(_speech_probs(model.session, samples), n, options)
    else:  # another faster-whisper: its own function, on the whole channel
        found = get_speech_timestamps(np.asarray(samples[0:n], dtype=np.float32), options)
    chunks: list[tuple[int, int]] = []
    for c in found:
        s, e = int(c["start"]), int(c["end"])
        if chunks and s - chunks[-1][1] < merge_gap * SAMPLE_RATE:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    return chunks


def _blocks(samples: Any, size: int):
    if hasattr(samples, "chunks"):
        yield from samples.chunks(size)
    else:
        for a in range(0, len(samples), size):
            yield np.asarray(samples[a: a + size], dtype=np.float32)


def _speech_probs(session: Any, samples: Any) -> np.ndarray:
    """Silero's speech probability per 512-sample window, the channel read block by block.

    Does what faster-whisper's ``SileroVADModel.__call__`` does on the whole padded channel
    (zeros up to a whole window, the last window's final 64 samples zeroed, each window given
    the 64 samples before it, the state carried from window to window), so the probabilities
    are the same.
    """
    n = len(samples)
    pad = VAD_WINDOW - n % VAD_WINDOW
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    before = np.zeros(VAD_CONTEXT, dtype=np.float32)
    probs: list[np.ndarray] = []
    done = 0

    def run(block: np.ndarray, last: bool) -> None:
        nonlocal h, c, before
        windows = block.reshape(-1, VAD_WINDOW)
        if last:
            windows[-1, -VAD_CONTEXT:] = 0.0
        context = np.empty((len(windows), VAD_CONTEXT), dtype=np.float32)
        context[0] = before
        context[1:] = windows[:-1, -VAD_CONTEXT:]
        before = windows[-1, -VAD_CONTEXT:].copy()
        batch = np.concatenate([context, windows], 1)
        for i in range(0, len(batch), VAD_BATCH):
            out, h, c = session.run(None, {"input": batch[i: i + VAD_BATCH], "h": h, "c": c})
            probs.append(np.asarray(out, dtype=np.float32).reshape(-1))

    held: np.ndarray | None = None
    for block in _blocks(samples, VAD_BLOCK):
        if held is not None:
            run(held, False)
        held = np.array(block, dtype=np.float32)  # a copy: the last window is changed in place
        done += len(block)
    tail = np.concatenate([held, np.zeros(pad, dtype=np.float32)])
    for a in range(0, len(tail), VAD_BLOCK):
        run(tail[a: a + VAD_BLOCK], a + VAD_BLOCK >= len(tail))
    return np.concatenate(probs)


def _timestamps(speech_probs: np.ndarray, audio_length_samples: int, vad_options: Any) -> list[dict]:
    """Speech chunks from the window probabilities: faster-whisper 1.2's
    ``get_speech_timestamps`` after its model call, unchanged (MIT licence)."""
    sampling_rate = SAMPLE_RATE
    threshold = vad_options.threshold
    neg_threshold = vad_options.neg_threshold
    min_speech_duration_ms = vad_options.min_speech_duration_ms
    max_speech_duration_s = vad_options.max_speech_duration_s
    min_silence_duration_ms = vad_options.min_silence_duration_ms
    window_size_samples = VAD_WINDOW
    speech_pad_ms = vad_options.speech_pad_ms
    min_speech_samples = sampling_rate * min_speech_duration_ms / 1000
    speech_pad_samples = sampling_rate * speech_pad_ms / 1000
    max_speech_samples = sampling_rate * max_speech_duration_s - window_size_samples - 2 * speech_pad_samples
    min_silence_samples = sampling_rate * min_silence_duration_ms / 1000
    min_silence_samples_at_max_speech = sampling_rate * 98 / 1000

    triggered = False
    speeches: list[dict] = []
    current_speech: dict = {}
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    temp_end = 0
    prev_end = next_start = 0

    for i, speech_prob in enumerate(speech_probs):
        if (speech_prob >= threshold) and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = window_size_samples * i

        if (speech_prob >= threshold) and not triggered:
            triggered = True
            current_speech["start"] = window_size_samples * i
            continue

        if triggered and (window_size_samples * i) - current_speech["start"] > max_speech_samples:
            if prev_end:
                current_speech["end"] = prev_end
                speeches.append(current_speech)
                current_speech = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    current_speech["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current_speech["end"] = window_size_samples * i
                speeches.append(current_speech)
                current_speech = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue

        if (speech_prob < neg_threshold) and triggered:
            if not temp_end:
                temp_end = window_size_samples * i
            if (window_size_samples * i) - temp_end > min_silence_samples_at_max_speech:
                prev_end = temp_end
            if (window_size_samples * i) - temp_end < min_silence_samples:
                continue
            else:
                current_speech["end"] = temp_end
                if (current_speech["end"] - current_speech["start"]) > min_speech_samples:
                    speeches.append(current_speech)
                current_speech = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue

    if current_speech and (audio_length_samples - current_speech["start"]) > min_speech_samples:
        current_speech["end"] = audio_length_samples
        speeches.append(current_speech)

    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - speech_pad_samples))
        if i != len(speeches) - 1:
            silence_duration = speeches[i + 1]["start"] - speech["end"]
            if silence_duration < 2 * speech_pad_samples:
                speech["end"] += int(silence_duration // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence_duration // 2))
            else:
                speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - speech_pad_samples))
        else:
            speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
    return speeches


def groups(chunks: list[tuple[int, int]], gap: float = 0.0, limit: float = MAX_STREAM_S) -> list[list[tuple[int, int]]]:
    """Split a channel's speech chunks into runs whose packed stream is at most ``limit``
    seconds (a single chunk may be longer), so Whisper's features for a long call are
    computed a few minutes at a time; a call with less speech is one group, as before."""
    out: list[list[tuple[int, int]]] = []
    length, prev_end = 0, 0
    for s, e in chunks:
        size = min(int(gap * SAMPLE_RATE), max(s - prev_end, 0)) + (e - s)
        if out and out[-1] and length + size <= limit * SAMPLE_RATE:
            out[-1].append((s, e))
            length += size
        else:
            out.append([(s, e)])
            length = size
        prev_end = e
    return out


def pack(samples: Any, chunks: list[tuple[int, int]], gap: float = 0.0,
         after: int = 0) -> tuple[np.ndarray, list[Piece]]:
    """Lay the speech chunks of one channel one after the other.

    Args:
        samples: the channel, 16 kHz (an array or a :class:`qc.ingest.Signal`).
        chunks: from :func:`speech_chunks`.
        gap: seconds of silence (zeros) put before each chunk, or the pause that was really
            there when it was shorter; 0 lays the chunks end to end.
        after: where the speech before these chunks ended (for a later group of a channel).

    Returns:
        The stream (16 kHz float32) and the pieces it is made of, in order.
    """
    pieces: list[Piece] = []
    parts: list[np.ndarray] = []
    length, prev_end = 0, after
    for s, e in chunks:
        pause = min(int(gap * SAMPLE_RATE), s - prev_end)
        if pause > 0:
            parts.append(np.zeros(pause, dtype=np.float32))
            length += pause
        pieces.append(Piece(s / SAMPLE_RATE, e / SAMPLE_RATE, length / SAMPLE_RATE))
        parts.append(samples[s:e])
        length += e - s
        prev_end = e
    if not pieces:
        return np.zeros(0, dtype=np.float32), []
    return np.concatenate(parts).astype(np.float32, copy=False), pieces


def unpack(segments: list[RawSegment], pieces: list[Piece]) -> list[RawSegment]:
    """Map segments recognised on the stream back to channel time.

    Each word goes to the piece its middle falls in (so a word is never stretched over the
    silence that was cut out); a segment without word times maps its start and end.
    """
    offsets = [p.offset for p in pieces]

    def piece_at(t: float) -> Piece:
        return pieces[max(bisect_right(offsets, t) - 1, 0)]

    def piece_of(a: float, b: float) -> Piece:
        """The piece a word overlaps most; a word in the silence between two pieces goes to the
        nearer one (Whisper often starts a chunk's first word early, in the silence before it)."""
        k = max(bisect_right(offsets, (a + b) / 2) - 1, 0)
        best, score = pieces[k], -1e9
        for p in pieces[max(k - 1, 0): k + 2]:
            lo, hi = p.offset, p.offset + (p.end - p.start)
            overlap = min(b, hi) - max(a, lo)
            if overlap <= 0:  # no overlap: minus the distance
                overlap = -max(lo - b, a - hi)
            if overlap > score:
                best, score = p, overlap
        return best

    out: list[RawSegment] = []
    for seg in segments:
        if seg.words:
            words = []
            for w in seg.words:
                p = piece_of(w.start, w.end)
                words.append(Word(p.to_channel_time(w.start), p.to_channel_time(w.end), w.text, w.probability))
            start, end = words[0].start, words[-1].end
        else:
            words = []
            start = piece_at(seg.start).to_channel_time(seg.start)
            end = piece_at(max(seg.end - 1e-6, seg.start)).to_channel_time(seg.end)
        out.append(RawSegment(start, end, seg.text, words, seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio))
    return out
