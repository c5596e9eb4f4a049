"""Operations on a whole deployment: backup and restore (python -m app.ops)."""
