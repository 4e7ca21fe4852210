"""Notification texts rendered in Jinja2's sandbox, over the event's payload and nothing else.

The sandbox (PayloadSandbox, Jinja2's ImmutableSandboxedEnvironment narrowed) refuses
attribute access to internals (`__class__`, `mro`, ...), any method, Jinja's globals and any
`*`/`**` that would build a huge value; the context holds only the payload's plain JSON values,
so a template can reach no object of the platform and cannot exhaust the worker. Undefined names fail
(StrictUndefined), which is how a template is checked when staff save it: rendered once on the
type's sample payload, and refused with the error when it does not compile or names something
the payload does not have. At sending, a staff template that still fails (a payload without a
field the sample had) falls back to the built-in text, so a notification is never lost to it.
Output is plain text: nothing is marked safe, and e-mails are sent as text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from apps.notifications.texts import DEFAULTS

SUBJECT_LIMIT = 300
BODY_LIMIT = 5000


class TemplateRefused(ValueError):
    """A template that does not compile or render on the sample payload; `field` says which part."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class PayloadSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox narrowed to reading a payload: no globals (`range`, `lipsum`, `joiner`,
    `cycler`, `namespace`, `dict` would print Python objects or burn CPU), no attribute that is
    a method (`{{ number.format_map }}` would print a function), and no `*` or `**` that
    builds a huge value (`'a' * 10**9` would take a gigabyte)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals.clear()
        self.filters["words"] = words

    def wrap_str_format(self, value):
        return None  # `str.format` / `format_map` are methods like any other: refused below

    def is_safe_attribute(self, obj, attr, value) -> bool:
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            raise SecurityError("Powers are not allowed in notification templates.")
        sized = [value for value in (left, right) if isinstance(value, str | list | tuple)]
        counts = [value for value in (left, right) if isinstance(value, int)]
        if sized and counts and len(sized[0]) * counts[0] > BODY_LIMIT:
            raise SecurityError("The template would build a text longer than a notification may be.")
        return super().call_binop(context, operator, left, right)


@functools.cache
def _environment() -> PayloadSandbox:
    return PayloadSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def words(value) -> str:
    """A code as words: "in_transit" -> "in transit" (statuses, document types)."""
    return str(value).replace("_", " ")


@functools.lru_cache(maxsize=512)
def _compiled(source: str):
    return _environment().from_string(source)


def _render_one(source: str, context: dict, limit: int) -> str:
    text = _compiled(source).render(context)
    return " ".join(text.split()) if limit == SUBJECT_LIMIT else text.strip()


def render(*, subject: str, body: str, context: dict) -> Rendered:
    """Both parts rendered over `context`; raises TemplateRefused naming the failing part."""
    parts = {}
    for name, source, limit in (("subject", subject, SUBJECT_LIMIT), ("body", body, BODY_LIMIT)):
        try:
            parts[name] = _render_one(source, context, limit)[:limit]
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as error:
            raise TemplateRefused(name, f"{type(error).__name__}: {error}") from error
    return Rendered(**parts)


def default_text(type_key: str, language: str) -> tuple[str, str]:
    texts = DEFAULTS[type_key]
    return texts.get(language) or texts["en"]


def render_default(*, type_key: str, language: str, context: dict) -> Rendered:
    subject, body = default_text(type_key, language)
    try:
        return render(subject=subject, body=body, context=context)
    except TemplateRefused:
        # A payload without a field the built-in text names: tell with that field left empty
        # rather than not at all.
        return Rendered(
            subject=_render_lenient(subject, context)[:SUBJECT_LIMIT], body=_render_lenient(body, context)[:BODY_LIMIT]
        )


@functools.cache
def _lenient_environment() -> PayloadSandbox:
    return PayloadSandbox(autoescape=False)


def _render_lenient(source: str, context: dict) -> str:
    try:
        return " ".join(_lenient_environment().from_string(source).render(context).split())
    except TemplateError:
        return ""
