"""The history's pages: ranges of a thread's message numbers, newest first.

A thread's messages are numbered 1..last_seq without gaps (given under the thread's lock in the
sending transaction, never deleted: a deleted message keeps its row), so a page is the range
`(high - limit, high]` of the (thread, seq) index, whatever the thread's size. A keyset cursor
(`seq < position ORDER BY seq DESC LIMIT n`) reads the same rows, but a prepared statement's
generic plan, built without the thread, may judge a bitmap of the thread's and the parties'
indexes cheaper and read every message of a large thread to sort them (docs/benchmarks.md,
"Issue 18 (chat)"); a range bound on both sides is planned as the short index walk it is.

The cursor reads as DRF's: base64 of `p=<position>` (the page below that number) or
`r=1&p=<position>` (the page above it), in `meta.next` / `meta.previous` links. A message sent
while someone pages back gets a higher number and never shifts what the next page shows.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, urlencode

from django.db.models import QuerySet
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.core.errors import ValidationFailed
from apps.core.pagination import StreamPagination, requested_limit


class HistoryPagination(StreamPagination):
    ordering = ("-seq",)

    def paginate_history(self, messages: QuerySet, *, last_seq: int, request) -> list:
        """The page of `messages` (one thread's) the request's cursor names, newest first."""
        self.request = request
        self.page_size = requested_limit(request, default=self.page_size, maximum=self.max_page_size)
        self.base_url = request.build_absolute_uri()
        token = request.query_params.get(self.cursor_query_param)
        high = last_seq
        if token:
            above, position = self._decode(token)
            high = min(position + self.page_size, last_seq) if above else min(position - 1, last_seq)
        low = max(high - self.page_size, 0)
        self.last_seq, self.high, self.low = last_seq, high, low
        if high <= 0:
            return []
        return list(messages.filter(seq__gt=low, seq__lte=high).order_by("-seq"))

    def _decode(self, token: str) -> tuple[bool, int]:
        try:
            fields = parse_qs(
                base64.b64decode(token.encode("ascii"), validate=True).decode("ascii"), strict_parsing=True
            )
            position = int(fields["p"][0])
            above = fields.get("r", ["0"])[0] == "1"
        except (binascii.Error, UnicodeError, ValueError, KeyError, IndexError) as error:
            raise ValidationFailed(
                "The cursor is invalid.", details={"cursor": ["Use the meta.next or meta.previous link."]}
            ) from error
        if position < 0:
            raise ValidationFailed(
                "The cursor is invalid.", details={"cursor": ["Use the meta.next or meta.previous link."]}
            )
        return above, position

    def _link(self, fields: dict) -> str:
        token = base64.b64encode(urlencode(fields).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        if self.low <= 0:
            return None
        return self._link({"p": self.low + 1})

    def get_previous_link(self) -> str | None:
        if self.high >= self.last_seq:
            return None
        if self.high <= 0:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link({"r": 1, "p": self.high})
