"""qc: call-quality inspection (智能质检) for contact-centre recordings.

The pipeline, one package or module per stage: ``qc.ingest`` → ``qc.asr`` → ``qc.normalize`` →
``qc.emotion`` → ``qc.rules`` → ``qc.scoring`` → ``qc.report``; ``qc.run`` runs them over a night
(local processes or Ray) and stores the results. The records that flow between stages are in
``qc.types``. Importing ``qc`` loads none of them.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
