"""Demo data of device passports for `make run` (registered with apps.core.demo, run by
`seed_demo`), made through the services as the demo users would.

Volga Carriers (device passports on) registers twelve devices as its operator and takes them
through their lives: its QC inspector passes (and once fails) them, its operator ships, receives
and decommissions them, its engineer installs and services them. One device has a GTIN (its QR
code is a GS1 Digital Link); one carries its QC certificate. Baltic Shippers claims the pump
installed at its site (a pending takeover, in the staff's queue and in Volga's admin), and two
service requests arrive: one from a device's public page (with a photo), one from Volga's admin.

Runs once: the GTIN device found (whoever owns it by then) means the demo devices are there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.accounts.services import user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.core.uploads import Upload
from apps.passports import services
from apps.passports.locate import passport_locate
from apps.passports.selectors import passport_events
from apps.passports.services.passports import gtin_14
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug

MAKER, CLAIMANT = "volga-carriers", "baltic-shippers"
GTIN = "4601234567893"  # made up, with a valid GS1 check digit
GTIN_SERIAL = "VA-PLC-000417"
KAZAN = ("Kazan, Sibirsky trakt 34, test bay", Decimal("55.796100"), Decimal("49.108800"))
TALLINN = ("Tallinn, Sadama 25, boiler room", Decimal("59.444300"), Decimal("24.762200"))
STOCK = ("Kazan, Volga Carriers' warehouse, rack B-14", Decimal("55.830400"), Decimal("49.066100"))


@dataclass(frozen=True)
class Step:
    kind: str
    by: str  # the demo member's role who records it
    days_ago: int
    place: tuple[str, Decimal, Decimal] | None = None
    note: str = ""


@dataclass(frozen=True)
class Device:
    name: str
    manufacturer: str
    model: str
    serial: str
    product_type: str
    origin: str
    made_days_ago: int
    steps: tuple[Step, ...] = ()
    gtin: str = ""
    warranty_years: int = 2


QC = Role.QC_INSPECTOR
OPERATOR = Role.OPERATOR
ENGINEER = Role.ENGINEER

DEVICES = (
    Device(
        "Asynchronous motor 7.5 kW",
        "Kazan Electromash",
        "AIR132M4",
        "KEM-24-10311",
        "MO",
        "RU",
        120,
        (
            Step("qc_passed", QC, 118, note="Insulation 500 MOhm, vibration 1.1 mm/s."),
            Step("shipped", OPERATOR, 110),
            Step("installed", ENGINEER, 104, KAZAN),
            Step("serviced", ENGINEER, 20, KAZAN, "Bearings greased, alignment checked."),
        ),
    ),
    Device(
        "Frequency inverter 11 kW",
        "Volga Drive Systems",
        "VDS-11",
        "VDS-5520931",
        "DR",
        "RU",
        90,
        (Step("qc_passed", QC, 89), Step("installed", ENGINEER, 80, KAZAN)),
    ),
    Device(
        "Centrifugal pump 80 m3/h",
        "Kama Pumpworks",
        "KP-80-50",
        "KP-2405-0077",
        "PU",
        "RU",
        75,
        (
            Step("qc_passed", QC, 74, note="Pressure test 16 bar, 30 min, no leaks."),
            Step("shipped", OPERATOR, 70),
            Step("installed", ENGINEER, 62, TALLINN, "Installed at Baltic Shippers' site."),
        ),
        warranty_years=3,
    ),
    Device(
        "PLC controller 400 I/O",
        "Volga Automation",
        "VA-PLC-400",
        GTIN_SERIAL,
        "PL",
        "RU",
        40,
        (Step("qc_passed", QC, 39), Step("shipped", OPERATOR, 5)),
        gtin=GTIN,
    ),
    Device(
        "Pressure sensor 0-16 bar",
        "Volga Automation",
        "VA-PS16",
        "VA-PS16-88120",
        "SE",
        "RU",
        30,
        (Step("qc_passed", QC, 29), Step("received", OPERATOR, 25, STOCK)),
    ),
    Device(
        'Operator panel 10"',
        "Volga Automation",
        "VA-HMI-10",
        "VA-HMI-10-3021",
        "HM",
        "CN",
        14,
        (Step("qc_passed", QC, 12),),
    ),
    Device(
        "Screw compressor 22 kW",
        "Kama Pumpworks",
        "KC-22",
        "KC-22-0412",
        "CO",
        "DE",
        21,
        (Step("qc_passed", QC, 20), Step("shipped", OPERATOR, 3)),
    ),
    Device(
        "Helical gearbox 5.5 kW",
        "Volga Drive Systems",
        "VDS-GB55",
        "VDS-GB55-7781",
        "GB",
        "DE",
        9,
        (Step("qc_failed", QC, 8, note="Backlash 14 arcmin, over the 10 allowed: back to assembly."),),
    ),
    Device(
        "Ball valve actuator DN50",
        "Volga Automation",
        "VA-BV50",
        "VA-BV50-1190",
        "VA",
        "IT",
        4,
    ),
    Device(
        "Diesel generator 60 kVA",
        "Kazan Electromash",
        "KEM-DG60",
        "KEM-DG60-0031",
        "GE",
        "RU",
        700,
        (
            Step("qc_passed", QC, 698),
            Step("installed", ENGINEER, 690, KAZAN),
            Step("decommissioned", OPERATOR, 15, note="Replaced by a grid connection."),
        ),
    ),
    Device(
        "Switchgear cabinet 0.4 kV",
        "Kazan Electromash",
        "KEM-SW04",
        "KEM-SW04-2290",
        "SW",
        "RU",
        2,
    ),
    Device(
        "Industrial robot arm, 6 axes",
        "Volga Automation",
        "VA-RA6",
        "VA-RA6-0007",
        "RB",
        "JP",
        200,
        (Step("qc_passed", QC, 199), Step("received", OPERATOR, 190, STOCK), Step("installed", ENGINEER, 150, KAZAN)),
    ),
)


def _email(role: str, slug: str) -> str:
    return f"{role.replace('_', '.')}@{slug}.demo"


def _actor(role: str, organization) -> Actor:
    user = user_get_by_email(email=_email(role, organization.slug))
    return Actor(user_id=user.id, organization_id=organization.id, role=role)


def _certificate() -> bytes:
    """A stand-in for a QC certificate: one A4 page."""
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((30, 30, 565, 812), outline="black", width=2)
    draw.text((50, 50), "QC certificate - PLC controller VA-PLC-400", fill="black")
    for top in range(110, 600, 60):
        draw.rectangle((50, top, 545, top + 45), outline=(120, 120, 120))
    draw.text((60, 640), "Result: PASSED - signed, QC inspector", fill="black")
    buffer = io.BytesIO()
    page.save(buffer, format="PDF")
    return buffer.getvalue()


def _leak_photo() -> bytes:
    """A stand-in for a photo taken at the device: a pump with a drip under it."""
    image = Image.new("RGB", (800, 600), (200, 205, 210))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 150, 550, 450), fill=(40, 90, 160), outline=(20, 40, 80), width=6)
    draw.rectangle((200, 440, 600, 480), fill=(90, 90, 90))
    draw.ellipse((420, 500, 520, 540), fill=(60, 110, 190))
    draw.text((40, 40), "Pump KP-80-50: water under the seal", fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _register(device: Device, actors: dict, now):
    operator = actors[OPERATOR]
    made_at = now - timedelta(days=device.made_days_ago)
    passport = services.passport_register(
        actor=operator,
        data=services.PassportInput(
            device_name=device.name,
            manufacturer=device.manufacturer,
            model=device.model,
            serial_number=device.serial,
            product_type=device.product_type,
            origin_country=device.origin,
            gtin=device.gtin,
            warranty_until=(made_at + timedelta(days=365 * device.warranty_years)).date(),
            manufactured_at=made_at,
            current_location=KAZAN[0],
        ),
    )
    for step in device.steps:
        location, latitude, longitude = step.place or ("", None, None)
        services.passport_event_record(
            actor=actors[step.by],
            passport_id=passport.id,
            data=services.LifecycleInput(
                kind=step.kind,
                occurred_at=now - timedelta(days=step.days_ago),
                location=location,
                latitude=latitude,
                longitude=longitude,
                note=step.note,
            ),
        )
    return passport


def seed() -> list[str]:
    """Register the demo devices once; the lines `make run` prints about them."""
    with system_scope(reason="seed_demo: passports", audit=False):
        maker = organization_get_by_slug(slug=MAKER)
        claimant = organization_get_by_slug(slug=CLAIMANT)
        if passport_locate(gtin=gtin_14(GTIN), serial_number=GTIN_SERIAL) is not None:
            return ["  passports: the demo devices are there already"]
    actors = {role: _actor(role, maker) for role in (OPERATOR, QC, ENGINEER, Role.ORG_ADMIN)}
    now = timezone.now() - timedelta(hours=1)
    with transaction.atomic():
        with tenant_scope(maker.id, user_id=actors[OPERATOR].user_id):
            passports = {device.serial: _register(device, actors, now) for device in DEVICES}
            plc = passports[GTIN_SERIAL]
            qc_step = next(event for event in passport_events(passport=plc) if event.kind == "qc_passed")
            services.passport_attachment_add(
                actor=actors[QC],
                passport_id=plc.id,
                upload=Upload("qc-certificate-VA-PLC-400.pdf", _certificate(), "application/pdf"),
                kind="document",
                event_id=qc_step.id,
            )
            services.service_request_create(
                actor=actors[Role.ORG_ADMIN],
                passport_id=passports["KEM-24-10311"].id,
                data=services.ServiceRequestInput(
                    description="The motor runs hot after an hour at full load: please check the cooling fan."
                ),
            )
        pump = passports["KP-2405-0077"]
        public = services.service_request_submit_public(
            code=pump.code,
            data=services.ServiceRequestInput(
                description="Water drips under the pump's seal since this morning.",
                contact_name="Mart Tamm",
                contact_email="mart.tamm@example.test",
                contact_phone="+372 5123 4567",
                photos=(Upload("pump-seal.jpg", _leak_photo(), "image/jpeg"),),
            ),
        )
        claimant_admin = _actor(Role.ORG_ADMIN, claimant)
        with tenant_scope(claimant.id, user_id=claimant_admin.user_id):
            takeover = services.takeover_request(
                actor=claimant_admin,
                code=pump.code,
                serial_number=pump.serial_number,
                message="We bought this pump with the boiler house; please hand its passport over to us.",
            )
    return [
        f"  passports: {len(passports)} devices of {maker.name} ({plc.code} has a GTIN, its QR is a GS1 Digital Link),"
        f" {claimant.name} claims {takeover.passport_code}, service request {public.number} from a public page:"
        f" the back-office lists them under Device passports; public page /p/{pump.code}"
    ]
