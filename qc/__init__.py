"""qc: call-quality inspection (智能质检) for contact-centre recordings.

The pipeline, one module per stage: ``qc.ingest`` → ``qc.asr`` → ``qc.normalize`` → ``qc.rules`` →
``qc.emotion`` → ``qc.scoring`` / ``qc.queue`` → ``qc.report``; ``qc.run.night`` runs a night. The
records that flow between stages are in ``qc.types``. Importing ``qc`` loads none of them.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
