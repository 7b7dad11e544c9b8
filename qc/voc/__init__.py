"""Voice of the customer (用户声音): what customers call about, who owns it, what is spiking, and the loop.

    tax = load_taxonomy("voc/")                    # TaxonomyError lists every problem as file:line:col
    voc = tag_call(transcript, tax, emotion)        # CallVoc: tags, quoted reason, resolution state
    topics = emerging_topics(untagged_vocs, ...)    # clusters of trigger sentences no tag covers

Tags are rule-engine conditions (:mod:`qc.rules`), so a tag matches exactly like a rule. Trends,
spikes and the closed loop (:mod:`qc.voc.trends`, :mod:`qc.voc.store`) live in the history
database in tables of their own; :mod:`qc.voc.report` writes ``voc.html`` and ``voc.xlsx`` beside the
night report. Nothing here imports the ASR stage.
"""

from qc.voc.model import CallVoc, TagHit
from qc.voc.tagging import clean_text, reason_sentence, tag_call, tag_calls, trigger_turns, unresolved_estimate
from qc.voc.taxonomy import SCOPES, Tag, Taxonomy, TaxonomyError, check_taxonomy, default_taxonomy_path, load_taxonomy
from qc.voc.testing import TagCaseResult, run_tag_case, run_tag_tests

__all__ = [
    "CallVoc", "TagHit", "Tag", "Taxonomy", "TaxonomyError", "SCOPES", "check_taxonomy", "load_taxonomy",
    "default_taxonomy_path", "tag_call", "tag_calls", "trigger_turns", "reason_sentence", "unresolved_estimate",
    "clean_text", "TagCaseResult", "run_tag_case", "run_tag_tests",
]
