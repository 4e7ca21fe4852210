"""Confirming a person's phone: a six-digit code by SMS, typed back within minutes.

Only a hash of the code is stored (keyed with the verification's id and SECRET_KEY); five
wrong tries spend a code; at most NOTIFICATIONS["PHONE_CODES_PER_HOUR"] codes an hour. The SMS
goes out before the request answers, so a number the gateway refuses is a 400 and a gateway
that is away a 503, and either way no code is left behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from uuid import UUID

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import user_contacts
from apps.accounts.services import user_phone_confirm
from apps.core.errors import DomainError, ErrorCode, RateLimited, ValidationFailed
from apps.core.task_bases import TransientError
from apps.notifications.catalogue import PHONE_VERIFICATION
from apps.notifications.models import Channel, Language, NotificationTemplate, PhoneVerification
from apps.notifications.providers import sms as sms_provider
from apps.notifications.rendering import TemplateRefused, render, render_default

CODE_MINUTES = 10
MAX_TRIES = 5


def _code_hash(verification_id: UUID, code: str) -> str:
    key = f"{settings.SECRET_KEY}:phone-verification".encode()
    return hmac.new(key, f"{verification_id}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_normalize(raw: str) -> str:
    """The number in E.164, or 400 saying it is not one."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as error:
        raise ValidationFailed(
            "Not a phone number.", details={"phone": [f"{error}. Give it as +<country><number>."]}
        ) from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed("Not a phone number.", details={"phone": ["This number cannot exist."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(language: str, code: str) -> str:
    context = {**PHONE_VERIFICATION.sample, "code": code, "minutes": CODE_MINUTES}
    template = NotificationTemplate.objects.filter(
        type=PHONE_VERIFICATION.key, channel=Channel.SMS, language=language, is_active=True
    ).first()
    if template is not None:
        try:
            return render(subject=template.subject, body=template.body, context=context).body
        except TemplateRefused:
            pass
    return render_default(type_key=PHONE_VERIFICATION.key, language=language, context=context).body


@transaction.atomic
def phone_verification_start(*, user_id: UUID, phone: str) -> PhoneVerification:
    number = phone_normalize(phone)
    now = timezone.now()
    recent = PhoneVerification.objects.filter(user_id=user_id, created_at__gt=now - dt.timedelta(hours=1)).count()
    if recent >= settings.NOTIFICATIONS["PHONE_CODES_PER_HOUR"]:
        raise RateLimited("Too many codes asked for in the last hour.", retry_after=15 * 60)
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification(user_id=user_id, phone=number, expires_at=now + dt.timedelta(minutes=CODE_MINUTES))
    verification.code_hash = _code_hash(verification.id, code)
    verification.save()
    contact = user_contacts(user_ids=[user_id]).get(user_id)
    language = contact.language if contact and contact.language in Language.values else Language.EN
    try:
        sms_provider.sms_gateway().send(to=number, body=_text(language, code), reference=str(verification.id))
    except sms_provider.SmsRejected as error:
        raise ValidationFailed("The SMS gateway refused this number.", details={"phone": [str(error)]}) from error
    except (TransientError, OSError) as error:
        raise DomainError(
            "The SMS gateway is unavailable; try again shortly.",
            code=ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE,
            status_code=503,
        ) from error
    return verification


class WrongCode(DomainError):
    status_code = 400
    code = ErrorCode.VALIDATION_FIELD_INVALID
    keeps_changes = True  # the failed try counts


def phone_verification_confirm(*, user_id: UUID, code: str) -> str:
    """Confirm the person's latest pending code; returns the confirmed number. A wrong code
    counts as a try even though the call fails (its transaction commits before the error)."""
    now = timezone.now()
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user_id=user_id, verified_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_TRIES)
            .order_by("-created_at")
            .first()
        )
        if verification is None:
            raise ValidationFailed(
                "No code is waiting: ask for a new one.", details={"code": ["Expired, used up, or never sent."]}
            )
        matches = hmac.compare_digest(verification.code_hash, _code_hash(verification.id, code.strip()))
        if matches:
            verification.verified_at = now
            verification.save(update_fields=["verified_at"])
            user_phone_confirm(user_id=user_id, phone=verification.phone)
            return verification.phone
        verification.attempts += 1
        verification.save(update_fields=["attempts"])
    left = MAX_TRIES - verification.attempts
    raise WrongCode("The code is incorrect.", details={"code": [f"Incorrect; {left} tries left."]})
