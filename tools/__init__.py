"""Helpers for the shell scripts (run from the repository root as `python3 -m tools.<name>`)."""
