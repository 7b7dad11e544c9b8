"""Per-call emotion: utterance scores, customer and agent negativity, trajectory, volatility,
the utterances that drove them, and complaint analysis. Risk flags are the rules' (RISK01-05 in
rules/risk.yaml, condition ``risk_cue``): one detector; ``CallEmotion.risks`` stays empty."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qc.emotion.dialogue import CALL_MODEL_ENV, CALL_MODEL_FILENAME, call_features, line_pushes, load_call_model
from qc.emotion.risk import classify_complaint
from qc.emotion.text import MODEL_ENV, load_text_model, score_text
from qc.types import CallEmotion, Evidence, Transcript, UtteranceEmotion

if TYPE_CHECKING:  # pragma: no cover
    from qc.ingest import DecodedAudio

__all__ = ["NEGATIVE", "ANGRY", "TRAJECTORY_STEP", "score_utterances", "analyze_call", "customer_indices"]

NEGATIVE = 0.5  # an utterance at or above this reads as negative
ANGRY = 0.75  # ... and at or above this as angry
TRAJECTORY_STEP = 0.15  # change in mean negativity, first third -> last third, that counts
VOICE_BOOST = 0.3  # most that a shouted line adds, as a share of the room left above its text score


def score_utterances(transcript: Transcript, model: str | Path | None = None) -> list[UtteranceEmotion]:
    """Text-only emotion of every utterance (fast; no audio needed).

    Args:
        transcript: the call.
        model: a text model file or folder (from ``qc emotion train``); default
            ``$QC_EMOTION_MODEL`` or the shipped model.

    Returns:
        One :class:`~qc.types.UtteranceEmotion` per utterance, in order: ``negativity`` after
        the call-language corrections, ``text_score`` the raw model negativity, ``cues`` the
        lexicon cues that fired (``anger:…``, ``rude:…``, ``polite:…``).
    """
    tm = load_text_model(model)
    out = []
    for i, u in enumerate(transcript.utterances):
        t = score_text(u.text, role=u.role, model=tm)
        out.append(UtteranceEmotion(index=i, role=u.role, negativity=round(t.negativity, 4),
                                    text_score=round(t.model, 4), cues=t.cues))
    return out


def customer_indices(transcript: Transcript) -> list[int]:
    """The customer's utterances; every non-agent one when no line is labelled customer."""
    idx = [i for i, u in enumerate(transcript.utterances) if u.role == "customer"]
    return idx or [i for i, u in enumerate(transcript.utterances) if u.role != "agent"]


def _fuse(text_neg: float, arousal: float | None) -> float:
    """Raise negativity for a line said louder/higher/faster than the speaker's norm.

    Arousal alone never makes a calm line negative: lines under 0.3 are left alone and the
    boost ramps up between 0.3 and 0.5, because people also raise their voice for good news
    or a bad line.
    """
    if arousal is None or arousal <= 0.5:
        return text_neg
    boost = VOICE_BOOST * min(1.0, (arousal - 0.5) / 1.5) * min(1.0, max(0.0, (text_neg - 0.3) / 0.2))
    return min(1.0, text_neg + (1.0 - text_neg) * boost)


def _driver(transcript: Transcript, ue: UtteranceEmotion) -> Evidence:
    u = transcript.utterances[ue.index]
    span = None
    for cue in ue.cues:
        kind, _, word = cue.partition(":")
        if kind in ("anger", "rude", "escalation", "urgency"):
            pos = u.text.find(word)
            if pos >= 0:
                span = (pos, pos + len(word))
                break
    return Evidence(utterance=ue.index, role=u.role, start=u.start, end=u.end, text=u.text, span=span)


def analyze_call(transcript: Transcript, audio: DecodedAudio | None = None,
                 model: str | Path | None = None, call_model: str | Path | None = None) -> CallEmotion:
    """Emotion and complaint summary of one call (risk flags: the rules, RISK01-05).

    Args:
        transcript: the call (roles agent/customer; times needed for voice features).
        audio: the decoded recording; when given, loudness, pitch and speech-rate rises
            against each speaker's own baseline raise ``voice_arousal`` and negativity.
        model: text model file or folder; default ``$QC_EMOTION_MODEL`` or the shipped one.
        call_model: call outcome model file or folder; default ``$QC_CALL_MODEL``, else
            ``call_model.npz`` beside ``model`` when that folder has one, else the shipped one.

    Returns:
        A :class:`~qc.types.CallEmotion`. ``customer_mean``/``customer_peak`` summarise the
        customer's lines; ``trajectory`` compares the first and last third of them
        (``recovered`` / ``worsened`` / ``stable``); ``volatility`` is the mean absolute change
        between consecutive customer lines; ``drivers`` quote the lines behind these.
        ``dissatisfied`` / ``unresolved`` are the call models' calibrated probabilities and
        ``outcome_evidence`` the customer lines that pushed dissatisfaction most.
    """
    utts = score_utterances(transcript, model=model)
    text_neg = [u.negativity for u in utts]
    if audio is not None and transcript.has_timing:
        from qc.emotion.voice import voice_arousal

        for ue, arousal in zip(utts, voice_arousal(transcript, audio)):
            ue.voice_arousal = None if arousal is None else round(arousal, 3)
            ue.negativity = round(_fuse(ue.negativity, arousal), 4)
    call = CallEmotion(call_id=transcript.call_id, utterances=utts)
    cust = customer_indices(transcript)
    agent = [i for i, u in enumerate(transcript.utterances) if u.role == "agent"]
    cneg = np.array([utts[i].negativity for i in cust])
    aneg = np.array([utts[i].negativity for i in agent])
    if len(cneg):
        call.customer_peak = round(float(cneg.max()), 4)
        call.customer_mean = round(float(cneg.mean()), 4)
        if len(cneg) >= 2:
            call.volatility = round(float(np.abs(np.diff(cneg)).mean()), 4)
        if len(cneg) >= 3:
            third = max(1, len(cneg) // 3)
            first, last = float(cneg[:third].mean()), float(cneg[-third:].mean())
            call.trajectory_delta = round(last - first, 4)
            if call.trajectory_delta >= TRAJECTORY_STEP:
                call.trajectory = "worsened"
            elif call.trajectory_delta <= -TRAJECTORY_STEP and first >= NEGATIVE - 0.1:
                call.trajectory = "recovered"
    if len(aneg):
        call.agent_peak = round(float(aneg.max()), 4)
        call.agent_mean = round(float(aneg.mean()), 4)
    cue_angry = [i for i in cust if utts[i].negativity >= ANGRY
                 and any(c.startswith(("anger:", "escalation:")) for c in utts[i].cues)]
    call.customer_angry = bool(cue_angry) or int((cneg >= ANGRY).sum()) >= 2
    rude = [i for i in agent if any(c.startswith("rude:") for c in utts[i].cues)
            or (utts[i].negativity >= 0.85 and (utts[i].voice_arousal or 0.0) >= 1.5)]
    call.agent_lost_temper = bool(rude)
    worst = sorted((i for i in cust if utts[i].negativity >= NEGATIVE), key=lambda i: -utts[i].negativity)[:3]
    call.drivers = [_driver(transcript, utts[i]) for i in sorted(set(worst) | set(rude))]
    # risk flags are the rules' (RISK01-05, one detector); the complaint grade reads the same cue table
    call.complaint = classify_complaint(transcript, [u.negativity for u in utts], call.customer_peak)
    text_dir = model if model is not None else os.environ.get(MODEL_ENV) or None
    if call_model is None and not os.environ.get(CALL_MODEL_ENV) and text_dir is not None \
            and (Path(text_dir) / CALL_MODEL_FILENAME).is_file():
        call_model = text_dir  # a folder from `qc emotion train` may hold both models
    _outcomes(call, transcript, text_neg, call_model)
    return call


def _outcomes(call: CallEmotion, transcript: Transcript, text_neg: list[float], call_model: str | Path | None) -> None:
    """Dissatisfied / unresolved probabilities and, when either is at least even, the customer
    lines that pushed dissatisfaction most."""
    if not transcript.utterances:
        return
    cm = load_call_model(call_model)
    roles = [u.role for u in transcript.utterances]
    texts = [u.text for u in transcript.utterances]
    p = cm.predict(call_features(roles, texts, text_neg))
    call.dissatisfied = round(p["dissatisfied"], 3)
    call.unresolved = round(p["unresolved"], 3)
    if max(call.dissatisfied, call.unresolved) < NEGATIVE:
        return  # nothing to explain
    ranked = line_pushes(cm, roles, texts)
    pushes = [i for i, push in ranked if push > 0][:2] or [i for i, _ in ranked[:1]]
    call.outcome_evidence = [_driver(transcript, call.utterances[i]) for i in pushes]
