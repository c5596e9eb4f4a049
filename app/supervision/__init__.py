"""属地监管: the streets and communitys read-only view across their compounds (seeds 002, 004)."""
