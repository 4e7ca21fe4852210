"""Expert passports: registering one (its code), keeping the profile, the work status an expert
chooses, the membership that lets them rush, and their certifications."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.countries import is_country
from apps.core.errors import ErrorCode, InvalidStateTransition, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import outbox_publish
from apps.core.updates import model_changes
from apps.core.uploads import Upload, upload_checked
from apps.service import codes, vocabulary
from apps.service.events import ExpertMembershipChanged, ExpertRegistered, ExpertUpdated, ExpertWorkStatusChanged
from apps.service.models import (
    ExpertCertification,
    ExpertCodeCounter,
    ExpertPassport,
    ExpertType,
    MembershipLevel,
    WorkStatus,
)
from apps.service.transitions import CHOSEN_WORK_STATUSES, EXPERT, SYSTEM, WORK_STATUS
from apps.tenancy.roles import Grant, actor_grant

KM_PER_DEGREE = 111.32
MAX_RADIUS_KM = 2000


@dataclass
class ExpertInput:
    expert_type: str
    industry_code: str
    skill_code: str
    nationality: str
    # Whose passport: the actor's own when None; a dispatcher (expert:manage) may make one for
    # a member of their organization.
    user_id: UUID | None = None
    display_name: str = ""
    professional_field: str = ""
    headline: str = ""
    years_experience: int = 0
    skills: list[str] = field(default_factory=list)
    services_offered: str = ""
    languages: list[str] = field(default_factory=list)
    base_location: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    service_radius_km: int = 50
    is_published: bool = True


EDITABLE_FIELDS = (
    "display_name",
    "professional_field",
    "headline",
    "years_experience",
    "skills",
    "services_offered",
    "languages",
    "base_location",
    "latitude",
    "longitude",
    "service_radius_km",
    "is_published",
)
TEXT_LIMITS = {
    "display_name": 200,
    "professional_field": 200,
    "headline": 200,
    "services_offered": 4000,
    "base_location": 200,
}


def _raise(errors: dict, message: str) -> None:
    if errors:
        raise ValidationFailed(message, details=errors)


def _profile_errors(values: dict, *, main_skill: str = "") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, limit in TEXT_LIMITS.items():
        if len(str(values.get(name) or "")) > limit:
            errors[name] = [f"At most {limit} characters."]
    years = values.get("years_experience")
    if years is not None and not 0 <= int(years) <= 80:
        errors["years_experience"] = ["Between 0 and 80."]
    skills = values.get("skills") or []
    unknown = [key for key in skills if not vocabulary.is_skill_key(key)]
    if unknown:
        errors["skills"] = [f"Unknown skills: {', '.join(map(str, unknown))} (see GET /api/v1/experts/skills)."]
    elif len((set(skills) | {main_skill}) - {""}) > 20:  # the main skill counts
        errors["skills"] = ["At most 20 skills."]
    languages = values.get("languages") or []
    if any(not isinstance(code, str) or len(code) != 2 or not code.isalpha() for code in languages):
        errors["languages"] = ["Two-letter ISO 639-1 codes, e.g. en, de."]
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = ["Give both coordinates, or neither."]
    elif latitude is not None:
        if not -90 <= Decimal(latitude) <= 90:
            errors["latitude"] = ["Between -90 and 90."]
        if not -180 <= Decimal(longitude) <= 180:
            errors["longitude"] = ["Between -180 and 180."]
    radius = values.get("service_radius_km")
    if radius is not None and not 1 <= int(radius) <= MAX_RADIUS_KM:
        errors["service_radius_km"] = [f"Between 1 and {MAX_RADIUS_KM} km."]
    return errors


def area_box(latitude, longitude, radius_km: int) -> dict:
    """The bounding box, in degrees, of the circle an expert serves (the matching prefilter's
    index reads it). Longitude degrees shrink towards the poles; near a pole, or across the
    antimeridian, the box widens to every longitude (it only has to contain the circle)."""
    if latitude is None or longitude is None:
        return dict.fromkeys(("area_min_latitude", "area_max_latitude", "area_min_longitude", "area_max_longitude"))
    lat, lon = float(latitude), float(longitude)
    dlat = radius_km / KM_PER_DEGREE
    cos = math.cos(math.radians(lat))
    dlon = 180.0 if cos < 0.01 else radius_km / (KM_PER_DEGREE * cos)
    if lon - dlon < -180 or lon + dlon > 180:
        min_lon, max_lon = -180.0, 180.0
    else:
        min_lon, max_lon = lon - dlon, lon + dlon
    return {
        "area_min_latitude": max(-90.0, lat - dlat),
        "area_max_latitude": min(90.0, lat + dlat),
        "area_min_longitude": min_lon,
        "area_max_longitude": max_lon,
    }


def _issue_code(expert: ExpertPassport, now: datetime) -> None:
    year_month = now.strftime("%y%m")
    # The platform's counter for the month, locked until commit (last: others queue on it).
    counter, _ = ExpertCodeCounter.objects.select_for_update().get_or_create(year_month=year_month)
    counter.last_value += 1
    if counter.last_value > codes.SEQUENCE_MAX:
        raise ValidationFailed("No expert codes left this month.", code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION)
    counter.save(update_fields=["last_value"])
    expert.year_month = year_month
    expert.sequence = counter.last_value
    expert.code = codes.compose(
        expert_type=expert.expert_type,
        industry=expert.industry_code,
        skill=expert.skill_code,
        year_month=year_month,
        nationality=expert.nationality,
        sequence=counter.last_value,
    )
    expert.checksum = expert.code[-2:]


def _person(*, organization_id: UUID, user_id: UUID):
    """The member the passport is for: (user id, name) of an active member of the organization."""
    from apps.tenancy.selectors import member_list

    membership = member_list(organization_id=organization_id).filter(user_id=user_id).select_related("user").first()
    if membership is None:
        raise ValidationFailed(
            "The person is not a member of your organization.", details={"user_id": ["Not a member."]}
        )
    user = membership.user
    return user.id, (user.full_name or user.email.split("@")[0]).strip()


@transaction.atomic
def expert_register(*, actor: Actor, data: ExpertInput) -> ExpertPassport:
    """Make a member's expert passport: its code (issued now), its profile, work status IDLE
    and the FREE membership. One passport per person (400 VALIDATION_CONSTRAINT_VIOLATION for a
    second). Publishes `expert.registered`."""
    user_id = data.user_id or actor.user_id
    if user_id != actor.user_id and actor_grant(actor, "expert:manage") is not Grant.ALL:
        raise PermissionDenied("Your role makes expert passports only for yourself.")
    errors = _profile_errors(
        vars(data), main_skill=vocabulary.skill_key((data.industry_code or "").upper(), (data.skill_code or "").upper())
    )
    if data.expert_type not in ExpertType.values:
        errors["expert_type"] = [f"One of {', '.join(ExpertType.values)}."]
    industry, skill = (data.industry_code or "").upper(), (data.skill_code or "").upper()
    if not vocabulary.is_industry(industry):
        errors["industry_code"] = [f"One of {', '.join(vocabulary.INDUSTRIES)}."]
    elif not vocabulary.is_skill(industry, skill):
        errors["skill_code"] = [f"A skill of {industry}: {', '.join(vocabulary.SKILLS[industry])}."]
    nationality = (data.nationality or "").upper()
    if not is_country(nationality):
        errors["nationality"] = ["An ISO 3166-1 alpha-2 country code."]
    _raise(errors, "The expert passport has invalid or missing fields.")
    person_id, person_name = _person(organization_id=actor.organization_id, user_id=user_id)
    main_skill = vocabulary.skill_key(industry, skill)
    skills = [main_skill, *[key for key in dict.fromkeys(data.skills) if key != main_skill]]
    now = timezone.now()
    expert = ExpertPassport(
        organization_id=actor.organization_id,
        user_id=person_id,
        display_name=(data.display_name or person_name).strip()[:200],
        expert_type=data.expert_type,
        industry_code=industry,
        skill_code=skill,
        nationality=nationality,
        professional_field=data.professional_field.strip(),
        headline=data.headline.strip(),
        years_experience=data.years_experience,
        skills=skills,
        services_offered=data.services_offered.strip(),
        languages=[code.lower() for code in dict.fromkeys(data.languages)],
        base_location=data.base_location.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        service_radius_km=data.service_radius_km,
        is_published=data.is_published,
        work_status=WorkStatus.IDLE,
        work_status_changed_at=now,
        **area_box(data.latitude, data.longitude, data.service_radius_km),
    )
    if ExpertPassport.objects.filter(user_id=person_id).exists():
        raise _passport_exists()
    _issue_code(expert, now)
    try:
        with transaction.atomic():
            expert.save(force_insert=True)
    except IntegrityError as error:
        if "user_id" in str(error):
            raise _passport_exists() from error
        raise
    history_record(expert, transitions=WORK_STATUS, from_status="", to_status=WorkStatus.IDLE, actor=actor)
    audit_record(
        action="expert.registered",
        resource_type="expert",
        resource_id=expert.id,
        new_values={"code": expert.code, "user_id": str(person_id)},
        organization_id=actor.organization_id,
        actor=actor,
    )
    outbox_publish(
        ExpertRegistered(
            organization_id=actor.organization_id,
            expert_id=str(expert.id),
            code=expert.code,
            user_id=str(person_id),
            expert_type=expert.expert_type,
            skills=skills,
        )
    )
    return expert


def _passport_exists() -> ValidationFailed:
    return ValidationFailed(
        "This person already has an expert passport.",
        code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        details={"user_id": ["One expert passport per person."]},
    )


def expert_for_update(*, actor: Actor, expert_id: UUID) -> ExpertPassport:
    """The organization's expert passport, locked; with an `:own` grant only the actor's own."""
    expert = (
        ExpertPassport.objects.select_for_update().filter(organization_id=actor.organization_id, id=expert_id).first()
    )
    if expert is None:
        raise NotFound("Expert not found.")
    someone_else = not actor.is_system and not actor.is_staff and expert.user_id != actor.user_id
    if someone_else and actor_grant(actor, "expert:manage") is not Grant.ALL:
        raise NotFound("Expert not found.")
    return expert


@transaction.atomic
def expert_update(*, actor: Actor, expert_id: UUID, changes: dict) -> ExpertPassport:
    """Change the profile (never the code: labels and cards carry it). Publishing or hiding the
    profile hides its certifications with it. Publishes `expert.updated` when anything changed."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed("These fields cannot be changed.", details={name: ["Not editable."] for name in unknown})
    expert = expert_for_update(actor=actor, expert_id=expert_id)
    merged = {name: getattr(expert, name) for name in EDITABLE_FIELDS} | changes
    main_skill = vocabulary.skill_key(expert.industry_code, expert.skill_code)
    _raise(_profile_errors(merged, main_skill=main_skill), "The expert passport has invalid fields.")
    if "skills" in changes:
        main = vocabulary.skill_key(expert.industry_code, expert.skill_code)
        changes["skills"] = [main, *[key for key in dict.fromkeys(changes["skills"]) if key != main]]
    if "languages" in changes:
        changes["languages"] = [code.lower() for code in dict.fromkeys(changes["languages"])]
    for name in ("display_name", "professional_field", "headline", "services_offered", "base_location"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    changed = {
        name: (getattr(expert, name), value)
        for name, value in model_changes(instance=expert, data=changes, fields=EDITABLE_FIELDS).items()
    }
    if not changed:
        return expert
    for name, (_, value) in changed.items():
        setattr(expert, name, value)
    fields = list(changed)
    if changed.keys() & {"latitude", "longitude", "service_radius_km"}:
        for name, value in area_box(expert.latitude, expert.longitude, expert.service_radius_km).items():
            setattr(expert, name, value)
            fields.append(name)
    expert.save(update_fields=[*fields, "updated_at"])
    if "is_published" in changed:
        ExpertCertification.objects.filter(expert=expert).update(is_published=expert.is_published)
    audit_record(
        action="expert.updated",
        resource_type="expert",
        resource_id=expert.id,
        old_values={name: str(old) for name, (old, _) in changed.items()},
        new_values={name: str(new) for name, (_, new) in changed.items()},
        organization_id=expert.organization_id,
        actor=actor,
    )
    outbox_publish(
        ExpertUpdated(
            organization_id=expert.organization_id,
            expert_id=str(expert.id),
            code=expert.code,
            user_id=str(expert.user_id),
            changed=sorted(changed),
        )
    )
    return expert


def membership_is_active(expert: ExpertPassport, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        expert.membership_level != MembershipLevel.FREE
        and expert.membership_expires_at is not None
        and expert.membership_expires_at > now
    )


def _work_status_move(expert: ExpertPassport, to_status: str, *, actor: Actor, who: str, reason: str = "") -> None:
    current = expert.work_status
    expert.work_status_changed_at = timezone.now()
    move(
        expert,
        to_status,
        transitions=WORK_STATUS,
        actor=actor,
        who=who,
        reason=reason,
        field="work_status",
        save=["work_status_changed_at", "updated_at"],
        event=lambda: ExpertWorkStatusChanged(
            organization_id=expert.organization_id,
            expert_id=str(expert.id),
            code=expert.code,
            user_id=str(expert.user_id),
            from_status=current,
            to_status=to_status,
        ),
    )


@transaction.atomic
def expert_work_status_change(*, actor: Actor, expert_id: UUID, work_status: str, reason: str = "") -> ExpertPassport:
    """The expert chooses IDLE, AVAILABLE, RUSHING or OFF_DUTY (BOOKED and IN_SERVICE follow
    their service orders). RUSHING needs an active paid membership: 422
    INVALID_STATE_TRANSITION otherwise, nothing changed. Publishes `expert.work_status_changed`."""
    if work_status not in WorkStatus.values:
        raise ValidationFailed(
            "Unknown work status.", details={"work_status": [f"One of {', '.join(WorkStatus.values)}."]}
        )
    expert = expert_for_update(actor=actor, expert_id=expert_id)
    if work_status == expert.work_status:
        return expert
    if work_status not in CHOSEN_WORK_STATUSES:
        raise InvalidStateTransition(
            f"{work_status} follows the expert's service orders; it is not chosen.",
            details={"work_status": [f"Choose one of {', '.join(CHOSEN_WORK_STATUSES)}."]},
        )
    if work_status == WorkStatus.RUSHING and not membership_is_active(expert):
        raise InvalidStateTransition(
            "RUSHING needs an active paid membership (SILVER, GOLD or DIAMOND).",
            details={
                "membership_level": [
                    f"The membership is {expert.membership_level}"
                    + (
                        " and has expired."
                        if expert.membership_level != MembershipLevel.FREE
                        else "; FREE cannot rush."
                    )
                ]
            },
        )
    _work_status_move(expert, work_status, actor=actor, who=EXPERT, reason=reason)
    return expert


def expert_work_follow(*, expert: ExpertPassport, work_status: str, actor: Actor, reason: str = "") -> None:
    """Move a locked expert's work status as their service orders require (the system's moves:
    BOOKED when they take an order, IN_SERVICE while one is being worked, back to AVAILABLE
    when none is open). No move when already there, or when the table has none (an expert who
    went OFF_DUTY keeps it while still holding a booked order)."""
    if expert.work_status == work_status or work_status not in WORK_STATUS.allowed(expert.work_status, who=SYSTEM):
        return
    _work_status_move(expert, work_status, actor=actor, who=SYSTEM, reason=reason)


PAID_LEVELS = (MembershipLevel.SILVER, MembershipLevel.GOLD, MembershipLevel.DIAMOND)


def _membership_move(expert: ExpertPassport, *, level: str, expires_at, actor: Actor, expired: bool) -> None:
    previous = expert.membership_level
    expert.membership_level = level
    expert.membership_expires_at = expires_at
    expert.save(update_fields=["membership_level", "membership_expires_at", "updated_at"])
    audit_record(
        action="expert.membership_expired" if expired else "expert.membership_changed",
        resource_type="expert",
        resource_id=expert.id,
        old_values={"membership_level": previous},
        new_values={"membership_level": level, "expires_at": expires_at.isoformat() if expires_at else None},
        organization_id=expert.organization_id,
        actor=actor,
    )
    outbox_publish(
        ExpertMembershipChanged(
            organization_id=expert.organization_id,
            expert_id=str(expert.id),
            code=expert.code,
            user_id=str(expert.user_id),
            from_level=previous,
            to_level=level,
            expires_at=expires_at.isoformat() if expires_at else None,
            expired=expired,
        )
    )


@transaction.atomic
def expert_membership_set(*, actor: Actor, expert_id: UUID, level: str, expires_at: datetime | None) -> ExpertPassport:
    """Grant, renew or end a membership (platform staff, in the back-office: payment for
    memberships is outside this issue). A paid level needs an end in the future; FREE has none,
    and an expert leaving a paid level leaves RUSHING."""
    if not actor.is_staff and not actor.is_system:
        raise PermissionDenied("Only platform staff change memberships.")
    if level not in MembershipLevel.values:
        raise ValidationFailed(
            "Unknown membership level.", details={"level": [f"One of {', '.join(MembershipLevel.values)}."]}
        )
    if level in PAID_LEVELS and (expires_at is None or expires_at <= timezone.now()):
        raise ValidationFailed(
            "A paid membership needs an end in the future.", details={"expires_at": ["In the future."]}
        )
    expert = ExpertPassport.objects.select_for_update().filter(id=expert_id).first()
    if expert is None:
        raise NotFound("Expert not found.")
    _membership_move(
        expert, level=level, expires_at=expires_at if level in PAID_LEVELS else None, actor=actor, expired=False
    )
    if level == MembershipLevel.FREE and expert.work_status == WorkStatus.RUSHING:
        _work_status_move(expert, WorkStatus.AVAILABLE, actor=actor, who=SYSTEM, reason="The membership ended.")
    return expert


def memberships_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """The beat job: every paid membership past its end drops to FREE, and its expert leaves
    RUSHING for AVAILABLE. Each expert in its own transaction (a failure leaves the rest done);
    runs in the audited all-tenants scope. Returns how many expired."""
    from apps.core.context import system_scope

    now = now or timezone.now()
    expired = 0
    with system_scope(reason="service.memberships_expire"):
        ids = list(
            ExpertPassport.objects.filter(membership_level__in=PAID_LEVELS, membership_expires_at__lte=now)
            .order_by("membership_expires_at")
            .values_list("id", flat=True)[:batch]
        )
    for expert_id in ids:
        with system_scope(reason="service.memberships_expire"), transaction.atomic():
            expert = (
                ExpertPassport.objects.select_for_update()
                .filter(id=expert_id, membership_level__in=PAID_LEVELS, membership_expires_at__lte=now)
                .first()
            )
            if expert is None:  # renewed meanwhile
                continue
            actor = Actor.system(organization_id=expert.organization_id)
            _membership_move(expert, level=MembershipLevel.FREE, expires_at=None, actor=actor, expired=True)
            if expert.work_status == WorkStatus.RUSHING:
                _work_status_move(
                    expert, WorkStatus.AVAILABLE, actor=actor, who=SYSTEM, reason="The membership expired."
                )
            expired += 1
    return expired


@dataclass
class CertificationInput:
    name: str
    issuer: str = ""
    number: str = ""
    issued_on: date | None = None
    expires_on: date | None = None
    upload: Upload | None = None


@transaction.atomic
def expert_certification_add(*, actor: Actor, expert_id: UUID, data: CertificationInput) -> ExpertCertification:
    """Add a certificate to the expert's passport, with its file (checked by content: a PDF or
    an image) when given."""
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["This field is required."]
    for name, limit in (("name", 200), ("issuer", 200), ("number", 80)):
        if len(getattr(data, name) or "") > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    if data.issued_on and data.expires_on and data.expires_on < data.issued_on:
        errors["expires_on"] = ["On or after the date it was issued."]
    _raise(errors, "The certification has invalid fields.")
    expert = expert_for_update(actor=actor, expert_id=expert_id)
    certification = ExpertCertification(
        expert=expert,
        organization_id=expert.organization_id,
        name=data.name.strip(),
        issuer=data.issuer.strip(),
        number=data.number.strip(),
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        is_published=expert.is_published,
    )
    if data.upload is not None:
        certification.content_type = upload_checked(data.upload, max_bytes=settings.SERVICE["MAX_FILE_BYTES"])
        certification.filename = (data.upload.name or "certificate")[-200:]
        certification.size = len(data.upload.data)
        certification.sha256 = hashlib.sha256(data.upload.data).hexdigest()
        certification.file.save(certification.id.hex, ContentFile(data.upload.data), save=False)
    certification.save(force_insert=True)
    audit_record(
        action="expert.certification_added",
        resource_type="expert",
        resource_id=expert.id,
        new_values={"certification": certification.name, "expires_on": str(data.expires_on or "")},
        organization_id=expert.organization_id,
        actor=actor,
    )
    return certification


@transaction.atomic
def expert_certification_remove(*, actor: Actor, expert_id: UUID, certification_id: UUID) -> None:
    expert = expert_for_update(actor=actor, expert_id=expert_id)
    deleted, _ = ExpertCertification.objects.filter(expert=expert, id=certification_id).delete()
    if not deleted:
        raise NotFound("Certification not found.")
    audit_record(
        action="expert.certification_removed",
        resource_type="expert",
        resource_id=expert.id,
        old_values={"certification_id": str(certification_id)},
        organization_id=expert.organization_id,
        actor=actor,
    )
