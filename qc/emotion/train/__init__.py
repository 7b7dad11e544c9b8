"""Train the shipped emotion models, and recalibrate them on a team's own labels.

The stage in two modules: :mod:`~qc.emotion.train.utterances` (the utterance text model:
``train_base_model`` for maintainers, ``recalibrate`` on ``text,label`` rows) and
:mod:`~qc.emotion.train.calls` (the call outcome models: ``train_call_model`` for maintainers,
``recalibrate_calls`` on labelled calls).
"""

from qc.emotion.train.calls import (
    CallRecalibrationReport,
    LabelledCall,
    call_feature_rows,
    is_call_label_file,
    read_call_labels,
    read_dialogues,
    recalibrate_calls,
    train_call_model,
)
from qc.emotion.train.utterances import (
    LabelFileError,
    RecalibrationReport,
    read_labels,
    recalibrate,
    train_base_model,
)

__all__ = [
    "CallRecalibrationReport",
    "LabelFileError",
    "LabelledCall",
    "RecalibrationReport",
    "call_feature_rows",
    "is_call_label_file",
    "read_call_labels",
    "read_dialogues",
    "read_labels",
    "recalibrate",
    "recalibrate_calls",
    "train_base_model",
    "train_call_model",
]
