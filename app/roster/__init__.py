"""Compounds, buildings, units, owners and the voting subjects derived from them."""
