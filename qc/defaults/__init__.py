"""The shipped rule set, default scorecard and VOC taxonomy, found through the package.

The source tree keeps one editable copy of each at its top level (``rules/``,
``scorecards/default.yaml``, ``voc/``); ``qc/defaults/rules``, ``qc/defaults/scorecards`` and
``qc/defaults/voc`` are links to them, so a wheel built from the checkout carries real copies as package data and an installed
``qc`` finds them from any working folder. The links need a checkout with symlinks (git's default
on Linux and macOS).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["rules_path", "scorecard_path", "voc_path"]


def _shipped(name: str) -> Path:
    resource = files(__name__).joinpath(name)
    if not resource.is_dir() and not resource.is_file():
        raise FileNotFoundError(f"{resource}: the shipped defaults are missing from this qc install; reinstall qc")
    return Path(str(resource)).resolve()


def rules_path() -> Path:
    """The folder of shipped rule files (``rules/`` in the source tree)."""
    return _shipped("rules")


def scorecard_path() -> Path:
    """The shipped default scorecard (``scorecards/default.yaml`` in the source tree)."""
    return _shipped("scorecards/default.yaml")


def voc_path() -> Path:
    """The folder of the shipped starter VOC taxonomy (``voc/`` in the source tree)."""
    return _shipped("voc")
