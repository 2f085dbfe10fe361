"""Errors that carry a message meant for a person, never a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting or config key is missing or bad. ``key`` names it, e.g. ``sla.A.respond``."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class UserError(Exception):
    """Bad input from a user: the message says what is wrong and the right form."""
