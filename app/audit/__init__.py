"""Per-compound, hash-chained, append-only audit trail with signed checkpoints."""
