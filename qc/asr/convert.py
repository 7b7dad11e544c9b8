"""CTranslate2 Whisper weights -> an openai-whisper checkpoint, so both backends use the same model.

A CTranslate2 ``model.bin`` is a header plus a list of named tensors. Whisper's attention
projections are stored fused (self-attention q|k|v, cross-attention k|v); splitting them back
into openai-whisper's names gives a checkpoint ``whisper.load_model`` accepts. Only float16 /
float32 files convert exactly (an int8 model.bin would need de-quantising).

Format (little endian): u32 version; str spec; u32 revision; u32 n_vars; n_vars x {str name;
u8 rank; u32 dims[rank]; u8 dtype; u32 nbytes; bytes}; u32 n_aliases; {str alias; str target}.
A str is u16 length (including NUL) + utf-8 + NUL.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_ct2", "ct2_to_openai_state", "convert_ct2_to_openai", "alignment_heads"]

_DTYPES = ["float32", "int8", "int16", "int32", "float16", "bfloat16"]


def _read_str(f) -> str:
    (n,) = struct.unpack("<H", f.read(2))
    return f.read(n)[:-1].decode("utf-8")


def read_ct2(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
    """Read a CTranslate2 model.bin into ``(header, {name: array}, aliases)``.

    Raises:
        ValueError: the file is truncated.
    """
    tensors: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (version,) = struct.unpack("<I", f.read(4))
        spec = _read_str(f) if version >= 2 else None
        (revision,) = struct.unpack("<I", f.read(4)) if version >= 2 else (None,)
        (n_vars,) = struct.unpack("<I", f.read(4))
        for _ in range(n_vars):
            name = _read_str(f)
            (rank,) = struct.unpack("<B", f.read(1))
            shape = struct.unpack(f"<{rank}I", f.read(4 * rank)) if rank else ()
            if version >= 4:
                (tid,) = struct.unpack("<B", f.read(1))
                dtype = _DTYPES[tid]
            else:
                (item,) = struct.unpack("<B", f.read(1))
                dtype = {4: "float32", 1: "int8"}[item]
            (nbytes,) = struct.unpack("<I", f.read(4))
            buf = f.read(nbytes)
            if len(buf) != nbytes:
                raise ValueError(f"{path}: truncated inside tensor {name}")
            if dtype == "bfloat16":
                arr = (np.frombuffer(buf, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(buf, dtype)
            tensors[name] = arr.reshape(shape)
        aliases: dict[str, str] = {}
        raw = f.read(4)
        if len(raw) == 4:
            for _ in range(struct.unpack("<I", raw)[0]):
                alias = _read_str(f)
                aliases[alias] = _read_str(f)
    return {"version": version, "spec": spec, "revision": revision, "n_vars": n_vars}, tensors, aliases


def alignment_heads(ct2_dir: str | Path) -> list[tuple[int, int]]:
    """(layer, head) pairs used for word timestamps, from the CT2 config.json."""
    cfg = json.loads((Path(ct2_dir) / "config.json").read_text())
    return [tuple(x) for x in cfg.get("alignment_heads") or []]


def ct2_to_openai_state(ct2_dir: str | Path) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """openai-whisper ``dims`` and state dict (float16 numpy arrays) from a CT2 Whisper folder.

    Raises:
        ValueError: not a Whisper model, a quantised model, or unexpected biases.
    """
    header, v, aliases = read_ct2(Path(ct2_dir) / "model.bin")
    if header["spec"] != "WhisperSpec":
        raise ValueError(f"{ct2_dir}: not a Whisper model (spec {header['spec']})")
    if any(k.endswith("weight_scale") for k in v):
        raise ValueError(f"{ct2_dir}: quantised (int8/int16) model.bin cannot be converted exactly")

    def f16(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a).astype(np.float16)

    n_enc = len({m.group(1) for k in v if (m := re.match(r"encoder/layer_(\d+)/", k))})
    n_dec = len({m.group(1) for k in v if (m := re.match(r"decoder/layer_(\d+)/", k))})
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/conv1/weight"].shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_enc,
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_dec,
    }
    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = f16(v[f"{src}/weight"])
        if bias:
            sd[f"{dst}.bias"] = f16(v[f"{src}/bias"])

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = f16(v[f"{src}/gamma"])
        sd[f"{dst}.bias"] = f16(v[f"{src}/beta"])

    def fused_qkv(dst: str, src: str) -> None:
        w, b = v[f"{src}/weight"], v[f"{src}/bias"]
        n = w.shape[0] // 3
        if np.any(b[n:2 * n]):
            raise ValueError(f"{src}: non-zero key bias (Whisper's key projection has none)")
        sd[f"{dst}.query.weight"], sd[f"{dst}.key.weight"], sd[f"{dst}.value.weight"] = (
            f16(w[:n]), f16(w[n:2 * n]), f16(w[2 * n:]))
        sd[f"{dst}.query.bias"], sd[f"{dst}.value.bias"] = f16(b[:n]), f16(b[2 * n:])

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = f16(v["encoder/position_encodings/encodings"])
    norm("encoder.ln_post", "encoder/layer_norm")
    for i in range(n_enc):
        s, o = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{o}.attn_ln", f"{s}/self_attention/layer_norm")
        fused_qkv(f"{o}.attn", f"{s}/self_attention/linear_0")
        linear(f"{o}.attn.out", f"{s}/self_attention/linear_1")
        norm(f"{o}.mlp_ln", f"{s}/ffn/layer_norm")
        linear(f"{o}.mlp.0", f"{s}/ffn/linear_0")
        linear(f"{o}.mlp.2", f"{s}/ffn/linear_1")
    sd["decoder.token_embedding.weight"] = f16(v["decoder/embeddings/weight"])
    sd["decoder.positional_embedding"] = f16(v["decoder/position_encodings/encodings"])
    norm("decoder.ln", "decoder/layer_norm")
    for i in range(n_dec):
        s, o = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{o}.attn_ln", f"{s}/self_attention/layer_norm")
        fused_qkv(f"{o}.attn", f"{s}/self_attention/linear_0")
        linear(f"{o}.attn.out", f"{s}/self_attention/linear_1")
        norm(f"{o}.cross_attn_ln", f"{s}/attention/layer_norm")
        linear(f"{o}.cross_attn.query", f"{s}/attention/linear_0")
        wkv, bkv = v[f"{s}/attention/linear_1/weight"], v[f"{s}/attention/linear_1/bias"]
        n = wkv.shape[0] // 2
        if np.any(bkv[:n]):
            raise ValueError(f"{s}: non-zero cross-attention key bias")
        sd[f"{o}.cross_attn.key.weight"] = f16(wkv[:n])
        sd[f"{o}.cross_attn.value.weight"], sd[f"{o}.cross_attn.value.bias"] = f16(wkv[n:]), f16(bkv[n:])
        linear(f"{o}.cross_attn.out", f"{s}/attention/linear_2")
        norm(f"{o}.mlp_ln", f"{s}/ffn/layer_norm")
        linear(f"{o}.mlp.0", f"{s}/ffn/linear_0")
        linear(f"{o}.mlp.2", f"{s}/ffn/linear_1")
    # The output projection is tied to the token embedding in both formats.
    if aliases.get("decoder/projection/weight", "decoder/embeddings/weight") != "decoder/embeddings/weight":
        raise ValueError(f"{ct2_dir}: untied output projection is not supported")
    return dims, sd


def convert_ct2_to_openai(ct2_dir: str | Path, out_path: str | Path) -> Path:
    """Write an openai-whisper checkpoint (``{"dims", "model_state_dict"}``, float16) atomically."""
    import torch

    dims, sd = ct2_to_openai_state(ct2_dir)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        state = {k: torch.from_numpy(a) for k, a in sd.items()}
        torch.save({"dims": dims, "model_state_dict": state}, tmp)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
