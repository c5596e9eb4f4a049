"""Procedures for major matters (三议一审两公开): agenda items, templates, observers.

Importing the package registers the ballot gate with the voting service (dependency inversion:
voting knows nothing of procedures; procedures plug a guard into voting).
"""

from app.procedures.service import ballot_gate
from app.voting.service import register_open_guard

register_open_guard(ballot_gate)
