"""Checks on text that people read: names and file names that must show what they are."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Unicode's Bidi_Control characters (PropList.txt): they reorder what follows them, so
# "Volga\u202eCarriers" or a name ending in an override can show other text than it holds.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_or_format_characters(text: str) -> bool:
    """True when `text` holds a control character (Cc: NUL, newlines, escapes) or an invisible
    formatting one (Cf: right-to-left overrides, which disguise "fdp.exe" as "exe.pdf",
    zero-width characters). For file names, where neither has any business."""
    return any(unicodedata.category(character) in ("Cc", "Cf") for character in text)


def has_control_or_bidi_characters(text: str) -> bool:
    """True when `text` holds a control character (Cc) or a bidi control. Other invisible
    formatting characters stay allowed in names: the zero-width non-joiner is part of
    Persian spelling, the zero-width joiner of emoji."""
    return any(character in BIDI_CONTROLS or unicodedata.category(character) == "Cc" for character in text)


@deconstructible
class DisplayNameValidator:
    """Refuses names (of organizations, people, offerings) with control or bidi control
    characters: a name shown to other tenants must read as what it is."""

    message = "Names must not contain control characters or bidirectional overrides (such as U+202E)."
    code = "invisible_characters"

    def __call__(self, value):
        if isinstance(value, str) and has_control_or_bidi_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, DisplayNameValidator)


validate_display_name = DisplayNameValidator()
