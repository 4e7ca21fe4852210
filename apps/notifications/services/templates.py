"""Staff's notification templates: checked when saved, previewed on the type's sample payload."""

from __future__ import annotations

from uuid import UUID

from django.db import IntegrityError, transaction
from jinja2 import TemplateSyntaxError, meta

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.notifications.catalogue import type_get
from apps.notifications.models import NotificationTemplate
from apps.notifications.rendering import PayloadSandbox, Rendered, TemplateRefused, render

# Only parses: finds the names a template reads. The sandbox's own environment, so that it has no
# globals (Jinja's `range`, `joiner`... count as names the template reads) and folds no constant
# expression while it looks (`{{ 9 ** 9 ** 9 }}` would be computed by a plain environment).
_PARSER = PayloadSandbox()


def _names_beyond(source: str, context: dict) -> list[str]:
    """Names the template reads that the payload does not give: Jinja's own globals (`joiner`,
    `lipsum`, `range`...) render as Python objects (`<class 'jinja2.utils.Joiner'>`) or burn CPU
    (`lipsum(10000)`, nested `range` loops), and StrictUndefined lets them through. Checked
    before rendering, so such a template never runs. A template that does not parse has no
    names: rendering says what is wrong with it."""
    try:
        parsed = _PARSER.parse(source)
    except TemplateSyntaxError:
        return []
    return sorted(meta.find_undeclared_variables(parsed) - context.keys())


def _staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff edit notification templates.")


def template_preview(*, type_key: str, subject: str, body: str, sample: dict | None = None) -> Rendered:
    """The template rendered on the type's sample payload (or `sample`); 400 naming the part
    that does not compile or uses what the payload does not have."""
    kind = type_get(type_key)
    if kind is None:
        raise ValidationFailed("Unknown notification type.", details={"type": [f"{type_key!r} is not a type."]})
    context = {**kind.sample, "event_type": kind.events[0] if kind.events else kind.key, "occurred_at": ""}
    context = {**context, **(sample or {})}
    for part, source in (("subject", subject), ("body", body)):
        beyond = _names_beyond(source, context)
        if beyond:
            raise ValidationFailed(
                "The template uses names that are not in the type's payload.",
                details={part: [f"Not in the payload: {', '.join(beyond)}. Use: {', '.join(sorted(context))}."]},
            )
    try:
        return render(subject=subject, body=body, context=context)
    except TemplateRefused as refused:
        raise ValidationFailed(
            "The template does not render on the type's sample data.", details={refused.field: [str(refused)]}
        ) from refused


@transaction.atomic
def template_create(
    *, actor: Actor, type_key: str, channel: str, language: str, subject: str, body: str, is_active: bool = True
) -> NotificationTemplate:
    _staff(actor)
    template_preview(type_key=type_key, subject=subject, body=body)
    try:
        with transaction.atomic():
            template = NotificationTemplate.objects.create(
                type=type_key,
                channel=channel,
                language=language,
                subject=subject,
                body=body,
                is_active=is_active,
                updated_by_id=actor.user_id,
            )
    except IntegrityError as error:
        raise ValidationFailed(
            "A template for this type, channel and language exists: update it.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"type": ["One template per type, channel and language."]},
        ) from error
    audit_record(
        action="notification_template.created",
        resource_type="notification_template",
        resource_id=template.id,
        actor=actor,
    )
    return template


@transaction.atomic
def template_update(*, actor: Actor, template_id: UUID, **changes) -> NotificationTemplate:
    """Change subject, body or is_active; the result is checked as a new one would be."""
    _staff(actor)
    template = NotificationTemplate.objects.select_for_update().filter(id=template_id).first()
    if template is None:
        raise NotFound("Template not found.")
    for field in ("subject", "body", "is_active"):
        if changes.get(field) is not None:
            setattr(template, field, changes[field])
    template_preview(type_key=template.type, subject=template.subject, body=template.body)
    template.updated_by_id = actor.user_id
    template.save()
    audit_record(
        action="notification_template.updated",
        resource_type="notification_template",
        resource_id=template.id,
        actor=actor,
        new_values={key: value for key, value in changes.items() if value is not None},
    )
    return template
