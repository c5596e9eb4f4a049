"""Procedures for major matters (三议一审两公开): agenda items, templates, observers.

The review gate (gate.ballot_gate) is registered with voting explicitly by
app.main.install_domain_hooks; importing this package has no side effect.
"""
