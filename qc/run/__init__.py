"""The run layer: runs the stages over a night of calls (plan, local and Ray engines, results store).

Importing ``qc.run`` loads none of its modules.
"""
