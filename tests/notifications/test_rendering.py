"""The texts: every built-in text renders on its type's sample in both languages, and templates
run in Jinja2's sandbox over the payload alone."""

from __future__ import annotations

import pytest

from apps.notifications.catalogue import BY_KEY
from apps.notifications.rendering import TemplateRefused, render, render_default
from apps.notifications.texts import DEFAULTS

KEYS = sorted(BY_KEY)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("type_key", KEYS)
def test_every_built_in_text_renders_strictly_on_its_types_sample(type_key, language):
    subject, body = DEFAULTS[type_key][language]

    rendered = render(subject=subject, body=body, context=BY_KEY[type_key].sample)

    assert rendered.subject and rendered.body
    assert "{{" not in rendered.subject + rendered.body


def test_codes_read_as_words():
    rendered = render_default(
        type_key="order.status_changed",
        language="en",
        context={"number": "ORD-1", "from_status": "awaiting_pickup", "to_status": "in_transit", "note": ""},
    )

    assert rendered.subject == "Order ORD-1: in transit"
    assert rendered.body == "Order ORD-1 moved from awaiting pickup to in transit."


def test_a_kyc_decision_names_the_document_or_the_organization():
    document = render_default(
        type_key="kyc.decision",
        language="en",
        context={"document_type": "insurance", "status": "rejected", "reason": "Blurred"},
    )
    organization = render_default(type_key="kyc.decision", language="en", context={"status": "verified"})

    assert (document.subject, document.body) == ("insurance: rejected", "Your insurance was rejected. Blurred")
    assert (organization.subject, organization.body) == ("Verification: verified", "Your organization is now verified.")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ number.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ number.format_map }}",
        "{{ number.upper() }}",
        "{{ joiner }}",
        "{{ lipsum(5) }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ number * 1000000000 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_a_template_cannot_reach_python_internals(source):
    with pytest.raises(TemplateRefused) as refused:
        render(subject="x", body=source, context={"number": "ORD-1"})

    assert refused.value.field == "body"


def test_a_template_naming_what_the_payload_lacks_is_refused_naming_the_part():
    with pytest.raises(TemplateRefused) as refused:
        render(subject="{{ nope }}", body="fine", context={"number": "ORD-1"})

    assert refused.value.field == "subject"


def test_a_template_that_does_not_compile_is_refused():
    with pytest.raises(TemplateRefused):
        render(subject="{{ number ", body="", context={"number": "ORD-1"})


def test_a_missing_field_in_a_built_in_text_leaves_it_empty_rather_than_failing():
    rendered = render_default(type_key="offer.received", language="en", context={"rfq_number": "RFQ-1"})

    assert rendered.subject.startswith("Offer on RFQ-1")
