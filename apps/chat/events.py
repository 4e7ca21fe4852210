"""Domain events of chat (payloads are built here only), written to the outbox by the services.

The notifications context tells participants who are offline about a new message; a read
receipt lets the sender's side know. What the sockets of a thread see live is pushed to
`thread.<id>` directly on commit (apps/chat/live.py), not relayed from the outbox: the two
carry the same facts, the outbox copy is the one that cannot be lost.

`party_organization_ids` names the thread's two organizations; the text of a message is not in
the payload (a consumer that needs it reads it through the chat selectors, in a party's scope).
"""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ChatEvent(DomainEvent):
    aggregate_type = "chat_thread"
    thread_id: str
    thread_kind: str
    subject_id: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.thread_id


@dataclass(frozen=True, kw_only=True)
class MessageSent(ChatEvent):
    event_type = "chat.message_sent"
    message_id: str
    seq: int
    sender_id: str
    sender_organization_id: str
    recipient_organization_id: str
    attachment_count: int
    contacts_masked: bool


@dataclass(frozen=True, kw_only=True)
class MessageRead(ChatEvent):
    event_type = "chat.message_read"
    message_id: str
    seq: int
    reader_id: str
    reader_organization_id: str


@dataclass(frozen=True, kw_only=True)
class MessageHidden(ChatEvent):
    """Staff hid a message (reported, or seen in the back-office); the reason is in the audit log."""

    event_type = "chat.message_hidden"
    message_id: str
