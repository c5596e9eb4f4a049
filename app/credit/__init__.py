"""Credit scores and the red and black list (信用评价与红黑榜, seeds 000, 002, 003, 004)."""
