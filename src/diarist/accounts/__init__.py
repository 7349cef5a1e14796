"""Accounts: users, passwords, sessions, personal access tokens, one-time codes, audit."""
