"""Demo data of tenancy for `make run` (`manage.py seed_demo`, apps.core.demo): a platform admin,
three organizations, a user per role (idempotent). KYC verifies the organizations that have
numbers (apps.kyc.demo)."""

from apps.accounts.services import session_start, totp_provision, user_create, user_get_by_email
from apps.core.context import system_scope
from apps.tenancy import services
from apps.tenancy.models import Organization
from apps.tenancy.roles import Actor, Role

DEMO_PASSWORD = "manifest-demo-2026"
ADMIN_EMAIL = "admin@manifest.local"

ORGANIZATIONS = [
    {
        "slug": "baltic-shippers",
        "name": "Baltic Shippers",
        "legal_name": "Baltic Shippers OU",
        "country": "EE",
        "business_type": Organization.BusinessType.CLIENT,
        "city": "Tallinn",
        "address_line1": "Sadama 25",
        "postal_code": "10111",
        # Made-up numbers with valid check digits: the shipper is KYC-verified too, so it can award.
        "tax_id": "4707011004",
        "registration_number": "1024700001237",
        "members": [Role.ORG_ADMIN, Role.SHIPPER, Role.BUYER],
        # It claims a device of Volga Carriers' in the demo (apps.passports.demo).
        "features": {"device_passports": (True, True)},
    },
    {
        "slug": "volga-carriers",
        "name": "Volga Carriers",
        "legal_name": "OOO Volga Carriers",
        "country": "RU",
        "business_type": Organization.BusinessType.SUPPLIER,
        "city": "Kazan",
        "address_line1": "Sibirsky trakt 34",
        "postal_code": "420029",
        # Made-up numbers with valid check digits: the carrier arrives KYC-verified (basic).
        "tax_id": "1655001230",
        "registration_number": "1021600001235",
        "members": [
            Role.ORG_ADMIN,
            Role.CARRIER,
            Role.SUPPLIER,
            Role.EXPERT,
            Role.ENGINEER,
            Role.QC_INSPECTOR,
            Role.OPERATOR,
        ],
        "features": {"device_passports": (True, True), "expert_services": (True, True)},
    },
    {
        "slug": "parcel-bridge",
        "name": "Parcel Bridge",
        "legal_name": "Parcel Bridge GmbH",
        "country": "DE",
        "business_type": Organization.BusinessType.BOTH,
        "city": "Hamburg",
        "address_line1": "Am Sandtorkai 5",
        "postal_code": "20457",
        "members": [
            Role.ORG_ADMIN,
            Role.WAREHOUSE_MANAGER,
            Role.WAREHOUSE_STAFF,
            Role.PURCHASE_AGENT,
            Role.CUSTOMER_SERVICE,
            Role.CUSTOMER,
            Role.OPERATOR,
        ],
        # The forwarder: assisted purchase on; self purchase entitled but switched off.
        "features": {"assisted_purchase": (True, True), "self_purchase": (True, False)},
    },
]


def _email(role: Role, spec: dict) -> str:
    return f"{role.value.replace('_', '.')}@{spec['slug']}.demo"


def seed() -> list[str]:
    admin = user_get_by_email(email=ADMIN_EMAIL) or user_create(
        email=ADMIN_EMAIL,
        password=DEMO_PASSWORD,
        first_name="Platform",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
        email_verified=True,
    )
    # The admin asks staff for an authenticator code: the demo admin's authenticator
    # secret is printed (add it to any TOTP app), with fresh backup codes each run.
    otpauth_uri, backup_codes = totp_provision(user=admin)
    lines = [
        f"Demo logins (password for all: {DEMO_PASSWORD})",
        f"  platform admin  {ADMIN_EMAIL}",
        f"    authenticator (add to a TOTP app): {otpauth_uri}",
        f"    backup codes (one use each, new every run): {', '.join(backup_codes[:4])}",
    ]
    staff = Actor.staff(admin.id)
    with system_scope(reason="seed_demo", actor_id=admin.id):
        for spec in ORGANIZATIONS:
            organization = _organization(spec, staff)
            for role in spec["members"]:
                email = _email(role, spec)
                user = user_get_by_email(email=email) or user_create(
                    email=email,
                    password=DEMO_PASSWORD,
                    first_name=role.label,
                    last_name=spec["name"],
                    email_verified=True,
                )
                if not organization.memberships.filter(user=user).exists():
                    # The consent path, as for everyone: invited, then accepted at once
                    # by the demo account the seed has just made (no e-mail).
                    invitation = services.invitation_create(
                        organization=organization, actor=staff, email=email, role=role.value, notify=False
                    )
                    services.invitation_accept(invitation_id=invitation.id, user=user)
                lines.append(f"  {spec['name']:<16} {role.value:<18} {email}")
            for name, (entitled, enabled) in spec["features"].items():
                services.feature_set_entitlement(
                    organization_id=organization.id,
                    actor=staff,
                    name=name,
                    entitled=entitled,
                    enabled=enabled,
                )
    return lines


def tokens() -> list[str]:
    """`seed_demo --tokens`: an access token per demo member."""
    lines = []
    for spec in ORGANIZATIONS:
        for role in spec["members"]:
            email = _email(role, spec)
            lines.append(f"{email} {session_start(user=user_get_by_email(email=email)).access}")
    return lines


def _organization(spec, actor):
    organization = Organization.objects.filter(slug=spec["slug"]).first()
    fields = {k: v for k, v in spec.items() if k not in {"members", "features", "slug", "name"}}
    if organization:  # an older demo database: bring the record up to date
        return services.organization_update(organization=organization, actor=actor, data=fields)
    return services.organization_create(actor=actor, name=spec["name"], slug=spec["slug"], **fields)
