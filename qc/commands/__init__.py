"""The `qc` command's modules, one per stage: each registers its commands on ``qc.commands.base.app``.

Imported in pipeline order by the entry point (cli.py), which is also the help's order.
"""
