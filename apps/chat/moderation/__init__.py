# Placeholder until the moderation engine (branch chat-moderation) is merged; not committed.
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Moderated:
    text: str
    findings: tuple = ()

    @property
    def contacts_masked(self):
        return any(f.kind != "profanity" for f in self.findings)

    @property
    def changed(self):
        return bool(self.findings)


def moderate(text, *, mask_contacts):
    return Moderated(text=text)
