"""Packing both channels' speech into one Whisper stream, and mapping words back."""

import numpy as np
import pytest

from qc.asr.guard import RawSegment
from qc.asr.stream import SWITCH_GAP_S, Piece, pack, unpack
from qc.types import Word

SR = 16000


def test_pack_orders_chunks_by_time_across_channels_with_a_gap_at_each_switch():
    agent = np.full(10 * SR, 0.1, dtype=np.float32)
    customer = np.full(10 * SR, 0.2, dtype=np.float32)
    stream, pieces = pack({0: agent, 1: customer},
                          {0: [(0, SR), (6 * SR, 7 * SR)], 1: [(2 * SR, 4 * SR)]})
    assert [(p.channel, p.start, p.end) for p in pieces] == [(0, 0.0, 1.0), (1, 2.0, 4.0), (0, 6.0, 7.0)]
    assert [p.offset for p in pieces] == pytest.approx([0.0, 1.0 + SWITCH_GAP_S, 3.0 + 2 * SWITCH_GAP_S])
    assert len(stream) == int((4.0 + 2 * SWITCH_GAP_S) * SR)
    # each piece holds its own channel's samples; the gap is silence
    assert stream[int(1.5 * SR)] == pytest.approx(0.2) and stream[SR + 10] == 0.0
    assert stream[int((3.0 + 2 * SWITCH_GAP_S) * SR) + 10] == pytest.approx(0.1)


def test_pack_keeps_overlapping_speech_of_both_channels():
    x = np.ones(5 * SR, dtype=np.float32)
    stream, pieces = pack({0: x, 1: x}, {0: [(0, 3 * SR)], 1: [(SR, 2 * SR)]})
    assert len(stream) == int((4 + SWITCH_GAP_S) * SR)  # 3 s + 1 s, nothing lost to the overlap
    assert [p.channel for p in pieces] == [0, 1]


def test_pack_of_no_speech_is_empty():
    stream, pieces = pack({0: np.zeros(SR, dtype=np.float32)}, {0: []})
    assert len(stream) == 0 and pieces == []


def test_unpack_cuts_a_segment_where_the_speaker_changes_and_restores_call_times():
    pieces = [Piece(0, 10.0, 12.0, 0.0), Piece(1, 12.5, 14.0, 2.0 + SWITCH_GAP_S)]
    b = 2.0 + SWITCH_GAP_S
    seg = RawSegment(0.0, b + 1.4, "请问您是机主吗是的", [
        Word(0.1, 0.9, "请问", 0.9), Word(0.9, 1.8, "您是机主吗", 0.8),
        Word(b + 0.1, b + 0.6, "是", 0.7), Word(b + 0.6, b + 1.4, "的", 0.6),
    ], -0.2, 0.01, 1.1)
    (ch_a, a), (ch_b, c) = unpack([seg], pieces)
    assert (ch_a, a.text, a.start, a.end) == (0, "请问您是机主吗", pytest.approx(10.1), pytest.approx(11.8))
    assert (ch_b, c.text) == (1, "是的")
    assert (c.start, c.end) == (pytest.approx(12.6), pytest.approx(13.9))
    assert a.avg_logprob == c.avg_logprob == -0.2  # the decoder's statistics go with both parts


def test_unpack_clamps_a_word_that_runs_into_the_gap_to_its_own_piece():
    pieces = [Piece(0, 5.0, 6.0, 0.0), Piece(1, 8.0, 9.0, 1.0 + SWITCH_GAP_S)]
    seg = RawSegment(0.0, 1.15, "好", [Word(0.6, 1.15, "好", 0.9)], -0.1, 0.0, 1.0)
    ((ch, s),) = unpack([seg], pieces)
    assert ch == 0 and s.words[0].end == pytest.approx(6.0)


def test_unpack_without_word_times_gives_the_segment_to_the_piece_at_its_middle():
    pieces = [Piece(0, 0.0, 3.0, 0.0), Piece(1, 4.0, 8.0, 3.0 + SWITCH_GAP_S)]
    seg = RawSegment(3.5, 6.0, "您好", [], -0.3, 0.0, 1.0)
    ((ch, s),) = unpack([seg], pieces)
    assert ch == 1 and s.text == "您好"
    assert (s.start, s.end) == (pytest.approx(4.0 + 3.5 - 3.0 - SWITCH_GAP_S), pytest.approx(4.0 + 6.0 - 3.0 - SWITCH_GAP_S))
