"""Chat moderation: what a message says to the other side once contact details and profanity
are masked. Pure (text in, result out; no database, no Django), so the chat services call it
before a message is stored and sent, and keep the original for staff themselves.

    moderated = moderate("call me +7 916 123-45-67, fucking hell", mask_contacts=True)
    moderated.text               # "call me [contact hidden], f****** hell"
    moderated.contacts_masked    # True: tell the sender that contact details are masked
    moderated.findings           # (Finding("phone", 8, 24), Finding("profanity", 26, 33))

Contacts (contacts.py) are masked only when the caller asks (until a deal exists between the
two organizations, and the platform setting is on); profanity (profanity.py, word lists in
data/) always. A contact becomes one `CONTACT_MARKER`; a profane word keeps its first
character and the rest turns to asterisks of the same length, so the sentence still reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.chat.moderation.contacts import find_contacts
from apps.chat.moderation.profanity import find_profanity

__all__ = ["CONTACT_KINDS", "CONTACT_MARKER", "Finding", "Moderated", "moderate"]

CONTACT_MARKER = "[contact hidden]"
CONTACT_KINDS = frozenset({"phone", "email", "link", "handle"})
# Which kind two overlapping findings become: an e-mail's domain is also a link, a "wa.me/7916..."
# link is a messenger handle that holds a phone; profanity inside a contact goes with it.
_PRECEDENCE = {"email": 0, "handle": 1, "link": 2, "phone": 3, "profanity": 4}


@dataclass(frozen=True)
class Finding:
    kind: str  # "phone" | "email" | "link" | "handle" | "profanity"
    start: int  # span in the ORIGINAL text
    end: int


@dataclass(frozen=True)
class Moderated:
    text: str  # what is stored and shown to the other side
    findings: tuple[Finding, ...]

    @property
    def contacts_masked(self) -> bool:
        """True when a phone, e-mail, link or handle was replaced by the marker."""
        return any(finding.kind in CONTACT_KINDS for finding in self.findings)

    @property
    def profanity_masked(self) -> bool:
        return any(finding.kind == "profanity" for finding in self.findings)

    @property
    def changed(self) -> bool:
        return bool(self.findings)


def _merged(spans) -> tuple[Finding, ...]:
    """Findings sorted by start, overlapping ones merged into one of the strongest kind."""
    merged: list[Finding] = []
    for kind, start, end in sorted(spans, key=lambda span: (span[1], -span[2])):
        if start >= end:
            continue
        if merged and start < merged[-1].end:
            last = merged[-1]
            strongest = min(last.kind, kind, key=_PRECEDENCE.__getitem__)
            merged[-1] = Finding(kind=strongest, start=last.start, end=max(last.end, end))
        else:
            merged.append(Finding(kind=kind, start=start, end=end))
    return tuple(merged)


def _masked(text: str, findings: tuple[Finding, ...]) -> str:
    pieces, position = [], 0
    for finding in findings:
        pieces.append(text[position : finding.start])
        if finding.kind in CONTACT_KINDS:
            pieces.append(CONTACT_MARKER)
        else:
            pieces.append(text[finding.start] + "*" * (finding.end - finding.start - 1))
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def moderate(text: str, *, mask_contacts: bool) -> Moderated:
    """`text` as the other side may see it, with what was masked and where.

    Profanity is always masked; contact details (phones, e-mails, links, messenger handles,
    obfuscated or not) only with `mask_contacts`. Findings are sorted by start, their spans
    are in `text`, overlapping ones are merged. Deterministic and free of side effects."""
    spans = find_profanity(text)
    if mask_contacts:
        spans.extend(find_contacts(text))
    findings = _merged(spans)
    return Moderated(text=_masked(text, findings), findings=findings)
