"""Built-in condition types; importing this package registers them (see qc.rules.registry)."""

from qc.rules.conditions import data, flow, pattern, risk, text, timing  # noqa: F401
