"""What Whisper is given: the speech of a call packed into one stream, and the way back.

Whisper pays for a full 30-second window whatever it holds, so a channel with 12 s of speech
costs as much encoder time as one with 30. A call is turn-taking: the agent's and the
customer's speech rarely overlap, so the speech chunks of both channels (found by Silero VAD
on each channel) are laid end to end in time order and recognised as one stream; every word
is then mapped back to the channel and the time it came from. Silence costs nothing and the
windows are full. Overlapping speech stays whole: each channel's chunk is placed in the
stream on its own, one after the other.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from qc.asr.guard import RawSegment
from qc.types import Word

__all__ = ["Piece", "pack", "speech_chunks", "unpack"]

SAMPLE_RATE = 16000
# Silence put between pieces of different channels, so a change of speaker is also a pause
# to Whisper and word times do not run across it.
SWITCH_GAP_S = 0.2


@dataclass(frozen=True)
class Piece:
    """One speech chunk of one channel, placed in the stream."""

    channel: int | None
    start: float  # seconds in the channel
    end: float
    offset: float  # seconds in the stream where it begins

    def to_channel_time(self, t: float) -> float:
        return min(max(t - self.offset, 0.0), self.end - self.start) + self.start


def speech_chunks(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indices of the speech in one 16 kHz channel (Silero VAD, as bundled
    with faster-whisper; 200 ms of padding, pauses under 500 ms bridged)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if not len(samples):
        return []
    chunks = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=500, speech_pad_ms=200))
    return [(int(c["start"]), int(c["end"])) for c in chunks]


def pack(channels: dict[int | None, np.ndarray], chunks: dict[int | None, list[tuple[int, int]]]
         ) -> tuple[np.ndarray, list[Piece]]:
    """Lay the chunks of all channels end to end in order of start time.

    Args:
        channels: samples per channel (16 kHz mono float32), keyed by channel index.
        chunks: speech chunks per channel, as :func:`speech_chunks` gives.

    Returns:
        The stream (16 kHz float32) and the pieces it is made of, in stream order.
    """
    order = sorted((s, ch, e) for ch, cs in chunks.items() for s, e in cs)
    parts: list[np.ndarray] = []
    pieces: list[Piece] = []
    length = 0
    gap = np.zeros(int(SWITCH_GAP_S * SAMPLE_RATE), dtype=np.float32)
    for s, ch, e in order:
        if pieces and pieces[-1].channel != ch:
            parts.append(gap)
            length += len(gap)
        pieces.append(Piece(ch, s / SAMPLE_RATE, e / SAMPLE_RATE, length / SAMPLE_RATE))
        parts.append(channels[ch][s:e])
        length += e - s
    if not parts:
        return np.zeros(0, dtype=np.float32), []
    return np.concatenate(parts).astype(np.float32, copy=False), pieces


def unpack(segments: list[RawSegment], pieces: list[Piece]) -> list[tuple[int | None, RawSegment]]:
    """Map segments recognised on the stream back to (channel, segment in channel time).

    Each word goes to the piece its middle falls in; a segment is cut where its words change
    channel. A segment without word times goes whole to the piece its middle falls in.
    """
    offsets = [p.offset for p in pieces]

    def piece_at(t: float) -> Piece:
        return pieces[max(bisect_right(offsets, t) - 1, 0)]

    out: list[tuple[int | None, RawSegment]] = []
    for seg in segments:
        if not seg.words:
            p = piece_at((seg.start + seg.end) / 2)
            out.append((p.channel, RawSegment(p.to_channel_time(seg.start), p.to_channel_time(seg.end), seg.text,
                                              [], seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio)))
            continue
        runs: list[tuple[int | None, list[Word]]] = []
        for w in seg.words:
            p = piece_at((w.start + w.end) / 2)
            word = Word(p.to_channel_time(w.start), p.to_channel_time(w.end), w.text, w.probability)
            if runs and runs[-1][0] == p.channel:
                runs[-1][1].append(word)
            else:
                runs.append((p.channel, [word]))
        for ch, words in runs:
            text = seg.text if len(runs) == 1 else "".join(w.text for w in words)
            out.append((ch, RawSegment(words[0].start, words[-1].end, text, words,
                                       seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio)))
    return out
