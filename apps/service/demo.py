"""Demo data of field service for `make run` (registered with apps.core.demo, run by `seed_demo`
after the device passports' demo), made through the services as the demo users would.

Volga Carriers and Baltic Shippers get expert services. Five experts: two of Volga's own in Kazan
(the motor and drives expert RUSHING with a GOLD membership; a robotics expert with SILVER, at
work), three of Baltic's in Tallinn (a drives expert who travels to Kazan, booked; a pump expert
OFF_DUTY; a cooling expert on FREE, available), with certifications (one with its file). Volga's
operator orders service on its installed demo devices, one order in each status: COMPLETED on
the 7.5 kW motor (its passport gets the `serviced` step), IN_PROGRESS on the robot arm, ASSIGNED
on the inverter, CANCELLED, and an URGENT one PENDING that the matching offers to the RUSHING
expert.

Runs once: the first expert's passport found means the demo experts are there; the banner lists
the experts' logins every time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.accounts.services import session_start, user_create, user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.core.uploads import Upload
from apps.service import services
from apps.service.models import ExpertPassport, MembershipLevel, ServiceOrder, WorkStatus
from apps.tenancy import services as tenancy
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import member_list, organization_get_by_slug

# The shared demo password and the platform admin of apps/tenancy/demo.py (its module is
# tenancy's own: the values are repeated here, and tests/service/test_demo.py checks they agree).
DEMO_PASSWORD = "manifest-demo-2026"
ADMIN_EMAIL = "admin@manifest.local"

CUSTOMER, PROVIDER = "volga-carriers", "baltic-shippers"
KAZAN = ("Kazan", Decimal("55.796100"), Decimal("49.108800"))
TALLINN = ("Tallinn", Decimal("59.437000"), Decimal("24.753600"))


@dataclass(frozen=True)
class Certification:
    name: str
    issuer: str
    number: str = ""
    valid_years: int = 3
    with_file: bool = False


@dataclass(frozen=True)
class DemoExpert:
    slug: str
    email: str
    first_name: str
    last_name: str
    expert_type: str
    industry: str
    skill: str
    nationality: str
    professional_field: str
    headline: str
    years: int
    base: tuple[str, Decimal, Decimal]
    radius_km: int
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "ru")
    services_offered: str = ""
    membership: tuple[str, int] | None = None  # (level, days)
    certifications: tuple[Certification, ...] = ()
    # The status the expert chooses once the demo orders are done (None: their orders decide).
    chosen_status: str | None = None


MOTORS = DemoExpert(
    CUSTOMER,
    "expert@volga-carriers.demo",
    "Rustam",
    "Galiev",
    "T",
    "EL",
    "MOT",
    "RU",
    "Electric motors and drives",
    "Motors, inverters and generators: on site within two hours in Kazan",
    14,
    KAZAN,
    150,
    skills=("EL-DRV", "EL-GEN"),
    services_offered="Diagnostics, bearing and winding repair, alignment, vibration analysis.",
    membership=(MembershipLevel.GOLD, 365),
    certifications=(
        Certification("Electrical safety, group V (up to and above 1000 V)", "Rostekhnadzor", "ES-5-004417", 1, True),
        Certification("Vibration analyst, category II", "ISO 18436-2 body", "VA2-22871"),
    ),
    chosen_status=WorkStatus.RUSHING,
)
EXPERTS = (
    MOTORS,
    DemoExpert(
        CUSTOMER,
        "expert.robotics@volga-carriers.demo",
        "Alina",
        "Safina",
        "A",
        "AU",
        "ROB",
        "RU",
        "Industrial robotics",
        "Robot cells: programming, calibration, safety checks",
        9,
        KAZAN,
        300,
        skills=("AU-PLC", "AU-HMI"),
        membership=(MembershipLevel.SILVER, 180),
        certifications=(Certification("Robot programming and maintenance", "Volga Automation Academy", "RA-3310"),),
    ),
    DemoExpert(
        PROVIDER,
        "expert@baltic-shippers.demo",
        "Mart",
        "Kask",
        "T",
        "EL",
        "DRV",
        "EE",
        "Drives and power electronics",
        "Frequency inverters of every make, from Tallinn to Kazan",
        11,
        TALLINN,
        2000,
        skills=("EL-MOT",),
        languages=("et", "en", "ru"),
        certifications=(Certification("Power electronics service", "Tallinn University of Technology", "PE-118"),),
    ),
    DemoExpert(
        PROVIDER,
        "expert.pumps@baltic-shippers.demo",
        "Kadri",
        "Tamm",
        "T",
        "ME",
        "PMP",
        "EE",
        "Pumps and compressors",
        "Centrifugal pumps, seals and compressors in the Baltics",
        7,
        TALLINN,
        300,
        skills=("ME-CMP",),
        languages=("et", "en"),
        chosen_status=WorkStatus.OFF_DUTY,
    ),
    DemoExpert(
        PROVIDER,
        "expert.cooling@baltic-shippers.demo",
        "Andres",
        "Mets",
        "A",
        "HV",
        "REF",
        "EE",
        "Refrigeration and cold chain",
        "Reefer units, cold rooms and their audits",
        5,
        TALLINN,
        500,
        skills=("LO-CLD", "TR-AUD"),
        languages=("et", "en", "fi"),
        chosen_status=WorkStatus.AVAILABLE,
    ),
)

MOTOR, INVERTER, ROBOT = "KEM-24-10311", "VDS-5520931", "VA-RA6-0007"  # apps/passports/demo.py


@dataclass(frozen=True)
class DemoOrder:
    title: str
    skill: str
    urgency: str
    device: str
    description: str = ""
    expert: str = ""  # the email of the expert it is assigned to
    then: tuple[str, ...] = ()  # "start", "complete", "cancel"
    extra: dict = field(default_factory=dict)


ORDERS = (
    DemoOrder(
        "Bearing noise at full load",
        "EL-MOT",
        "MEDIUM",
        MOTOR,
        "A grinding noise from the drive end after an hour at full load.",
        MOTORS.email,
        ("start", "complete"),
    ),
    DemoOrder(
        "Axis 4 drifts after a collision",
        "AU-ROB",
        "HIGH",
        ROBOT,
        "The gripper misses the pallet by 5 mm since a light collision on Monday; recalibrate and check the brake.",
        "expert.robotics@volga-carriers.demo",
        ("start",),
    ),
    DemoOrder(
        "Inverter trips on overvoltage when braking",
        "EL-DRV",
        "HIGH",
        INVERTER,
        "Fault F0002 on every stop of the conveyor; a braking resistor may be missing.",
        "expert@baltic-shippers.demo",
    ),
    DemoOrder(
        "Firmware update of the inverter",
        "EL-DRV",
        "LOW",
        INVERTER,
        "Update to the maker's current firmware at the next planned stop.",
        then=("cancel",),
        extra={"cancel": "The maker's service does it under warranty."},
    ),
    DemoOrder(
        "Motor stopped: overcurrent trip, line 3 down",
        "EL-MOT",
        "URGENT",
        MOTOR,
        "The motor trips the breaker on every start. The whole line waits.",
    ),
)


def _certificate(title: str) -> bytes:
    """A stand-in for a scanned certificate: one A4 page."""
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((30, 30, 565, 812), outline="black", width=2)
    draw.text((50, 60), "CERTIFICATE", fill="black")
    draw.text((50, 100), title[:70], fill="black")
    draw.text((50, 700), "Valid with the holder's passport. Demo document.", fill=(90, 90, 90))
    buffer = io.BytesIO()
    page.save(buffer, format="PDF")
    return buffer.getvalue()


def _member(spec: DemoExpert, organization, staff: Actor):
    """The expert's account (made with the shared demo password) and its membership, role expert."""
    user = user_get_by_email(email=spec.email) or user_create(
        email=spec.email,
        password=DEMO_PASSWORD,
        first_name=spec.first_name,
        last_name=spec.last_name,
        email_verified=True,
    )
    if not member_list(organization_id=organization.id).filter(user_id=user.id).exists():
        invitation = tenancy.invitation_create(
            organization=organization, actor=staff, email=spec.email, role=Role.EXPERT, notify=False
        )
        tenancy.invitation_accept(invitation_id=invitation.id, user=user)
    return user


def _register(spec: DemoExpert, actor: Actor, today) -> ExpertPassport:
    place, latitude, longitude = spec.base
    expert = services.expert_register(
        actor=actor,
        data=services.ExpertInput(
            expert_type=spec.expert_type,
            industry_code=spec.industry,
            skill_code=spec.skill,
            nationality=spec.nationality,
            display_name=f"{spec.first_name} {spec.last_name}",
            professional_field=spec.professional_field,
            headline=spec.headline,
            years_experience=spec.years,
            skills=list(spec.skills),
            services_offered=spec.services_offered,
            languages=list(spec.languages),
            base_location=place,
            latitude=latitude,
            longitude=longitude,
            service_radius_km=spec.radius_km,
        ),
    )
    for certification in spec.certifications:
        upload = None
        if certification.with_file:
            upload = Upload(
                f"{certification.number or 'certificate'}.pdf", _certificate(certification.name), "application/pdf"
            )
        services.expert_certification_add(
            actor=actor,
            expert_id=expert.id,
            data=services.CertificationInput(
                name=certification.name,
                issuer=certification.issuer,
                number=certification.number,
                issued_on=today - timedelta(days=200),
                expires_on=today + timedelta(days=365 * certification.valid_years - 200),
                upload=upload,
            ),
        )
    return expert


def _devices(organization_id) -> dict:
    """Volga's installed demo devices by serial number (a device sold or moved since is left out:
    its order is made without a device)."""
    from apps.passports.selectors import passport_list

    return {
        passport.serial_number: passport.id
        for passport in passport_list(organization_id=organization_id).filter(
            serial_number__in=[MOTOR, INVERTER, ROBOT], status="installed"
        )
    }


def _work(order: ServiceOrder, spec: DemoOrder, *, actors: dict, organizations: dict) -> ServiceOrder:
    """Take the order through the moves the demo wants (each by whoever makes it)."""
    dispatcher, customer = actors["dispatcher"], organizations[CUSTOMER]
    for move in spec.then:
        if move == "cancel":
            with tenant_scope(customer.id, user_id=dispatcher.user_id):
                order = services.service_order_cancel(
                    actor=dispatcher, service_order_id=order.id, reason=spec.extra["cancel"]
                )
            continue
        expert = actors[spec.expert]
        with tenant_scope(expert.organization_id, user_id=expert.user_id):
            if move == "start":
                order = services.service_order_start(actor=expert, service_order_id=order.id)
            else:
                order = services.service_order_complete(
                    actor=expert,
                    service_order_id=order.id,
                    data=services.CompletionInput(
                        work_done="Replaced both bearings (drive and non-drive end), re-greased, checked the "
                        "alignment (0.03 mm) and the vibration (1.2 mm/s at full load).",
                        signed_off_by_name="Operator, Volga Carriers",
                        parts_used=[
                            {"name": "Bearing 6309-2Z", "quantity": 1, "part_number": "SKF 6309-2Z"},
                            {"name": "Bearing 6308-2Z", "quantity": 1, "part_number": "SKF 6308-2Z"},
                        ],
                    ),
                )
    return order


def seed() -> list[str]:
    """Make the demo experts and service orders once; the lines `make run` prints about them."""
    with system_scope(reason="seed_demo: field service", audit=False):
        organizations = {slug: organization_get_by_slug(slug=slug) for slug in (CUSTOMER, PROVIDER)}
        admin = user_get_by_email(email=ADMIN_EMAIL)
        there = ExpertPassport.objects.filter(user__email=MOTORS.email).exists()
    if there:
        return ["  field service: the demo experts and service orders are there already", *_logins()]
    staff = Actor.staff(admin.id if admin else None)
    today = timezone.localdate()
    with transaction.atomic():
        with system_scope(reason="seed_demo: field service", actor_id=staff.user_id):
            for organization in organizations.values():
                # Points too: the demo's completed work, paid memberships and reviews earn them.
                for feature in ("expert_services", "points"):
                    tenancy.feature_set_entitlement(
                        organization_id=organization.id, actor=staff, name=feature, entitled=True, enabled=True
                    )
            users = {spec.email: _member(spec, organizations[spec.slug], staff) for spec in EXPERTS}
        actors, experts = {}, {}
        for spec in EXPERTS:
            organization = organizations[spec.slug]
            actor = actors[spec.email] = Actor(
                user_id=users[spec.email].id, organization_id=organization.id, role=Role.EXPERT
            )
            with tenant_scope(organization.id, user_id=actor.user_id):
                experts[spec.email] = _register(spec, actor, today)
        with system_scope(reason="seed_demo: memberships", actor_id=staff.user_id):
            for spec in EXPERTS:
                if spec.membership:
                    level, days = spec.membership
                    services.expert_membership_set(
                        actor=Actor.staff(staff.user_id, organization_id=organizations[spec.slug].id),
                        expert_id=experts[spec.email].id,
                        level=level,
                        expires_at=timezone.now() + timedelta(days=days),
                    )
        customer = organizations[CUSTOMER]
        operator = user_get_by_email(email=f"operator@{CUSTOMER}.demo")
        actors["dispatcher"] = Actor(user_id=operator.id, organization_id=customer.id, role=Role.OPERATOR)
        orders = []
        with tenant_scope(customer.id, user_id=operator.id):
            devices = _devices(customer.id)
        for spec in ORDERS:
            with tenant_scope(customer.id, user_id=operator.id):
                order = services.service_order_create(
                    actor=actors["dispatcher"],
                    data=services.ServiceOrderInput(
                        title=spec.title,
                        required_skill=spec.skill,
                        urgency=spec.urgency,
                        description=spec.description,
                        passport_id=devices.get(spec.device),
                    ),
                )
                if spec.expert:
                    order = services.service_order_assign(
                        actor=actors["dispatcher"], service_order_id=order.id, expert_id=experts[spec.expert].id
                    )
            orders.append(_work(order, spec, actors=actors, organizations=organizations))
        for spec in EXPERTS:
            if spec.chosen_status:
                actor = actors[spec.email]
                with tenant_scope(actor.organization_id, user_id=actor.user_id):
                    services.expert_work_status_change(
                        actor=actor, expert_id=experts[spec.email].id, work_status=spec.chosen_status
                    )
    completed = next(order for order in orders if order.status == "COMPLETED")
    return [
        f"  field service: {len(EXPERTS)} experts of {customer.name} and {organizations[PROVIDER].name},"
        f" {len(orders)} service orders of {customer.name} ({', '.join(order.number for order in orders)}: one per"
        f" status; {completed.number} wrote a serviced step on {completed.passport_code or 'no device'}): the"
        " back-office lists them under Field service",
        *_logins(),
    ]


def _logins() -> list[str]:
    """The experts' logins with what they are now (password: the demo password above)."""
    with system_scope(reason="seed_demo: field service logins", audit=False):
        passports = {
            expert.user.email: expert
            for expert in ExpertPassport.objects.filter(
                user__email__in=[spec.email for spec in EXPERTS]
            ).select_related("user", "organization")
        }
    lines = ["  Field service experts (the same password):"]
    for spec in EXPERTS:
        expert = passports.get(spec.email)
        if expert is None:
            continue
        membership = expert.membership_level
        if expert.membership_expires_at:
            membership += f" until {timezone.localtime(expert.membership_expires_at):%Y-%m-%d}"
        lines.append(
            f"  {expert.organization.name:<16} {'expert':<18} {spec.email:<37} {expert.code}"
            f" {expert.work_status}, {membership}"
        )
    return lines


def tokens() -> list[str]:
    """`seed_demo --tokens`: an access token per demo expert this seeder made."""
    lines = []
    for spec in EXPERTS[1:]:  # the first is tenancy's demo user, whose token tenancy prints
        user = user_get_by_email(email=spec.email)
        if user is not None:
            lines.append(f"{spec.email} {session_start(user=user).access}")
    return lines
