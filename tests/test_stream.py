"""Cutting a channel's silence out before Whisper, and mapping words back to the call's time."""

import numpy as np
import pytest

from qc.asr.guard import RawSegment
from qc.asr.stream import Piece, pack, unpack
from qc.types import Word

SR = 16000


def test_pack_lays_the_speech_end_to_end():
    x = np.arange(10 * SR, dtype=np.float32)
    stream, pieces = pack(x, [(SR, 2 * SR), (6 * SR, 8 * SR)])
    assert pieces == [Piece(1.0, 2.0, 0.0), Piece(6.0, 8.0, 1.0)]
    assert len(stream) == 3 * SR and stream.dtype == np.float32
    assert stream[0] == SR and stream[SR] == 6 * SR  # the second piece follows the first directly


def test_pack_of_no_speech_is_empty():
    stream, pieces = pack(np.zeros(SR, dtype=np.float32), [])
    assert len(stream) == 0 and pieces == []


def test_unpack_restores_each_words_time_in_the_call():
    pieces = [Piece(10.0, 12.0, 0.0), Piece(20.0, 21.5, 2.0)]
    seg = RawSegment(0.0, 3.4, "请问您是机主吗是的", [
        Word(0.1, 0.9, "请问", 0.9), Word(0.9, 1.8, "您是机主吗", 0.8),
        Word(2.1, 2.6, "是", 0.7), Word(2.6, 3.4, "的", 0.6),
    ], -0.2, 0.01, 1.1)
    (out,) = unpack([seg], pieces)
    assert [w.start for w in out.words] == pytest.approx([10.1, 10.9, 20.1, 20.6])
    assert (out.start, out.end) == (pytest.approx(10.1), pytest.approx(21.4))
    assert (out.text, out.avg_logprob) == (seg.text, -0.2)


def test_unpack_keeps_a_word_that_runs_past_its_piece_inside_it():
    pieces = [Piece(5.0, 6.0, 0.0), Piece(9.0, 10.0, 1.0)]
    seg = RawSegment(0.0, 1.1, "好", [Word(0.6, 1.1, "好", 0.9)], -0.1, 0.0, 1.0)
    (out,) = unpack([seg], pieces)
    # its middle (0.85) is in the first piece: it ends where that speech ended, not 3 s later
    assert (out.words[0].start, out.words[0].end) == (pytest.approx(5.6), pytest.approx(6.0))


def test_unpack_without_word_times_maps_start_and_end():
    pieces = [Piece(0.0, 3.0, 0.0), Piece(4.0, 8.0, 3.0)]
    (out,) = unpack([RawSegment(2.0, 3.0, "您好", [], -0.3, 0.0, 1.0)], pieces)
    assert (out.start, out.end) == (pytest.approx(2.0), pytest.approx(3.0))  # ends where its piece ends
    (out,) = unpack([RawSegment(3.5, 6.0, "您好", [], -0.3, 0.0, 1.0)], pieces)
    assert (out.start, out.end) == (pytest.approx(4.5), pytest.approx(7.0))


def test_pack_puts_a_short_silence_before_each_chunk():
    """Butted end to end, one chunk's last syllable ran into the next one's first (onsets lost)."""
    x = np.ones(10 * SR, dtype=np.float32)
    stream, pieces = pack(x, [(SR, 2 * SR), (6 * SR, 8 * SR), (int(8.2 * SR), 9 * SR)], gap=0.5)
    assert [p.offset for p in pieces] == pytest.approx([0.5, 2.0, 4.2])  # the last pause was only 0.2 s
    assert len(stream) == int(4.2 * SR) + int(0.8 * SR)
    assert not stream[: SR // 2].any() and stream[SR // 2] == 1.0
    assert not stream[int(1.5 * SR): 2 * SR].any()
    seg = RawSegment(2.1, 2.5, "好", [Word(2.1, 2.5, "好", 0.9)], -0.1, 0.0, 1.0)
    (out,) = unpack([seg], pieces)
    assert (out.words[0].start, out.words[0].end) == (pytest.approx(6.1), pytest.approx(6.5))


def test_a_first_word_that_starts_in_the_silence_goes_to_its_own_chunk():
    """Whisper often starts a chunk's first word early, in the silence put before it: that word
    (「请」 of 「请问」) belongs to the speech after the silence, not to the end of the speech before."""
    pieces = [Piece(1.0, 3.0, 0.5), Piece(8.0, 10.0, 3.0)]  # stream: 0.5 s silence, 2 s, 0.5 s silence, 2 s
    seg = RawSegment(2.0, 3.6, "帮您请问", [Word(2.0, 2.4, "帮您", 0.9), Word(2.6, 3.2, "请", 0.8), Word(3.2, 3.6, "问", 0.9)],
                     -0.2, 0.0, 1.0)
    (out,) = unpack([seg], pieces)
    assert [w.start for w in out.words] == pytest.approx([2.5, 8.0, 8.2])
    assert out.words[1].end == pytest.approx(8.2)
