"""Owners' ballots: Art. 278 rules, tallies and the voting service."""
