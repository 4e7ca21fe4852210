"""The default rules (issue 22): what earns points until staff change them in the back-office.
Seeded once; unapplying removes only rules no ledger line refers to."""

from django.db import migrations

PAID_LEVELS = ["SILVER", "GOLD", "DIAMOND"]

DEFAULT_RULES = [
    {
        "key": "service-order-completed",
        "event_type": "service_order.completed",
        "recipient": "expert_user_id",
        "category": "SERVICE",
        "amount": 100,
        "description": "Service order completed",
    },
    {
        "key": "review-written",
        "event_type": "review.created",
        "recipient": "author_user_id",
        "category": "REVIEW",
        "amount": 10,
        "description": "Review written",
    },
    {
        "key": "device-registered",
        "event_type": "passport.registered",
        "recipient": "actor",
        "category": "DEVICE",
        "amount": 5,
        "description": "Device registered",
    },
    {
        "key": "referral-first-order",
        "event_type": "referral.qualified",
        "recipient": "referrer_user_id",
        "category": "REFERRAL",
        "amount": 200,
        "description": "A person you referred completed their first order",
    },
    {
        "key": "paid-membership",
        "event_type": "expert.membership_changed",
        "recipient": "user_id",
        "conditions": {"to_level": PAID_LEVELS, "expired": [False]},
        "category": "MEMBERSHIP",
        "amount": 50,
        "description": "Paid expert membership",
    },
]


def seed(apps, schema_editor):
    rule_model = apps.get_model("points", "PointRule")
    database = schema_editor.connection.alias  # migrate runs on the owner's connection
    for rule in DEFAULT_RULES:
        rule_model.objects.using(database).get_or_create(key=rule["key"], defaults={"transaction_type": "REWARD", **rule})


def unseed(apps, schema_editor):
    rule_model = apps.get_model("points", "PointRule")
    transaction_model = apps.get_model("points", "PointTransaction")
    with schema_editor.connection.cursor() as cursor:  # the owner sees every person's lines only so
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
    database = schema_editor.connection.alias
    used = set(transaction_model.objects.using(database).exclude(rule=None).values_list("rule_id", flat=True))
    keys = [rule["key"] for rule in DEFAULT_RULES]
    rule_model.objects.using(database).filter(key__in=keys).exclude(id__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
