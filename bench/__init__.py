"""Benchmarks of the vote path, tallies, audit verification, roster import and the owner's page.

Run `python -m bench` (see README, "Performance"); results go to bench/results/latest.json.
"""
