"""Accounts, roles per compound, password and one-time-code login, JWT sessions."""
