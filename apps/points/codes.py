"""Personal invite codes: eight characters of an alphabet without look-alikes (no 0, O, 1, I,
L or U), so a code read aloud or copied from paper comes through. 30^8 (about 6.6e11) codes: a
guess hits one of a million issued codes about once in 650,000 tries, and sign-up is
rate-limited."""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8


def code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_normalized(text: str) -> str:
    """A typed code as stored: upper case, without spaces or dashes."""
    return "".join(text.split()).replace("-", "").upper()


def code_looks_valid(code: str) -> bool:
    return len(code) == LENGTH and all(character in ALPHABET for character in code)
