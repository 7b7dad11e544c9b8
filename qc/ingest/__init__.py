"""Ingest: find call recordings, decode them, attach call metadata.

Decoding uses PyAV (FFmpeg's libraries, no ``ffmpeg`` program needed) and reads wav (PCM,
A-law, μ-law), mp3, m4a/aac, amr, flac and ogg. Each channel is kept separately so a stereo
call keeps the agent and the customer apart.

A recording is kept compactly (``decode_audio(path, sample_rate=None)``): a PCM 16-bit or
G.711 wav up to 16 kHz is read from its file where needed and never held; anything else is held
at its own rate (up to 16 kHz), as 16-bit integers for integer codecs: a 2-hour stereo 8 kHz
call would be 220 MiB, not the 880 MiB of float32 at 16 kHz. :meth:`DecodedAudio.channel` gives one channel at 16 kHz as a
:class:`Signal` that is resampled only where it is read (a window, or a stream of chunks), with
the same FFmpeg resampler, so every sample read equals the one a whole-file resample gives.

The stage in four modules: :mod:`~qc.ingest.calls` (find recordings, call metadata),
:mod:`~qc.ingest.audio` (decode, length limit), :mod:`~qc.ingest.signal` (a channel at 16 kHz,
resampled where read) and :mod:`~qc.ingest.wav` (a wav read in place).
"""

from qc.ingest.audio import (
    AUDIO_EXTENSIONS,
    MAX_DURATION,
    AudioError,
    DecodedAudio,
    decode_audio,
    file_sha256,
    max_duration_default,
)
from qc.ingest.calls import (
    CallMeta,
    MetadataError,
    call_metadata,
    discover_audio,
    duplicate_call_id,
    load_call_table,
    parse_filename,
    warn_link,
)
from qc.ingest.signal import Signal
from qc.types import AudioInfo

__all__ = [
    "AUDIO_EXTENSIONS", "AudioError", "AudioInfo", "MetadataError", "DecodedAudio", "Signal", "CallMeta", "decode_audio",
    "MAX_DURATION", "max_duration_default", "duplicate_call_id", "discover_audio", "file_sha256",
    "load_call_table", "parse_filename", "call_metadata", "warn_link",
]
