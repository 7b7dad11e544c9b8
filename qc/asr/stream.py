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
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from qc.asr.guard import RawSegment
from qc.types import Word

__all__ = ["Piece", "pack", "speech_chunks", "unpack"]

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Piece:
    """One speech chunk, placed in the stream."""

    start: float  # seconds in the channel
    end: float
    offset: float  # seconds in the stream where it begins

    def to_channel_time(self, t: float) -> float:
        return min(max(t - self.offset, 0.0), self.end - self.start) + self.start


def speech_chunks(samples: np.ndarray, pad_ms: int = 400, min_silence_ms: int = 500,
                  merge_gap: float = 0.0) -> list[tuple[int, int]]:
    """(start, end) sample indices of the speech in one 16 kHz channel.

    Silero VAD (as bundled with faster-whisper) with ``pad_ms`` of padding each side and pauses
    under ``min_silence_ms`` bridged; chunks then less than ``merge_gap`` seconds apart are
    merged, pause included.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if not len(samples):
        return []
    found = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=int(min_silence_ms),
                                                      speech_pad_ms=int(pad_ms)))
    chunks: list[tuple[int, int]] = []
    for c in found:
        s, e = int(c["start"]), int(c["end"])
        if chunks and s - chunks[-1][1] < merge_gap * SAMPLE_RATE:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    return chunks


def pack(samples: np.ndarray, chunks: list[tuple[int, int]], gap: float = 0.0) -> tuple[np.ndarray, list[Piece]]:
    """Lay the speech chunks of one channel one after the other.

    Args:
        samples: the channel, 16 kHz.
        chunks: from :func:`speech_chunks`.
        gap: seconds of silence (zeros) put before each chunk, or the pause that was really
            there when it was shorter; 0 lays the chunks end to end.

    Returns:
        The stream (16 kHz float32) and the pieces it is made of, in order.
    """
    pieces: list[Piece] = []
    parts: list[np.ndarray] = []
    length, prev_end = 0, 0
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
