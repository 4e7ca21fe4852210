"""Escrow and the ledger in the back-office: staff see every escrow and every account, an
organization admin the escrows their organization is a party to and only its own account
lines; staff adjust a balance and resolve a dispute through the services, audited; nothing
of the ledger can be added, changed or deleted."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.escrow import selectors, services
from apps.escrow.models import Escrow, EscrowStatus, ExchangeRate, JournalEntry
from tests.escrow.parties import create_escrow, fund_escrow, order_between
from tests.factories import UserFactory
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db

ESCROWS = reverse("admin:escrow_escrow_changelist")
LEDGER = reverse("admin:escrow_posting_changelist")
ENTRIES = reverse("admin:escrow_journalentry_changelist")
ACCOUNTS = reverse("admin:escrow_ledgeraccount_changelist")
WEBHOOKS = reverse("admin:escrow_webhookevent_changelist")
RATES = reverse("admin:escrow_exchangerate_changelist")
ADJUST = reverse("admin:escrow_ledger_adjust")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def escrow_page(escrow) -> str:
    return reverse("admin:escrow_escrow_change", args=[escrow.pk])


def escrow_between(client, supplier, *, total: str = "1000.00", currency: str = "EUR") -> Escrow:
    return create_escrow(client, order_between(client, supplier, total=total, currency=currency))


def release(client, escrow, amount: str) -> Escrow:
    with tenant_scope(client.org.id, user_id=client.staff.id):
        return services.escrow_release(actor=client.actor(), escrow_id=escrow.id, amount=amount)


def dispute(party, escrow, reason: str = "Half the pallets arrived crushed.") -> Escrow:
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return services.escrow_dispute(actor=party.actor(), escrow_id=escrow.id, reason=reason)


def available_balance(organization) -> dict[str, Decimal]:
    with system_scope(reason="test reads balances", audit=False):
        return {balance.currency: balance.available for balance in selectors.balances(organization_id=organization.id)}


def adjustments_of(organization) -> list[JournalEntry]:
    with system_scope(reason="test reads the ledger", audit=False):
        return list(
            JournalEntry.objects.filter(kind="adjustment", client_organization_id=organization.id).prefetch_related(
                "postings"
            )
        )


def entries_of(escrow) -> list[JournalEntry]:
    with system_scope(reason="test reads the ledger", audit=False):
        return list(JournalEntry.objects.filter(escrow_id=escrow.pk).order_by("created_at", "id"))


def audit_rows(action: str, organization) -> list[AuditLog]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(action=action, organization_id=organization.id))


def stored(escrow) -> Escrow:
    with system_scope(reason="test reads the escrow", audit=False):
        return Escrow.objects.get(pk=escrow.pk)


def adjustment(organization, **fields) -> dict:
    return {
        "organization": str(organization.pk),
        "currency": "EUR",
        "amount": "25.00",
        "direction": "credit",
        "reason": "Goodwill: the delivery of ESC-1 was late twice.",
    } | fields


# --- Who sees which escrows -----------------------------------------------------------------------


def test_staff_see_every_organizations_escrows(client_party, supplier_party, outsider, staff):
    escrow_between(client_party, supplier_party, total="1111.00")
    escrow_between(outsider, supplier_party, total="2222.00")

    listed = logged_in(staff).get(ESCROWS).content.decode()

    # Numbers count per client organization (both are ESC-...-000001): told apart by amount.
    assert "1111.00 EUR" in listed and "2222.00 EUR" in listed
    assert client_party.org.name in listed and outsider.org.name in listed


def test_an_org_admin_sees_only_the_escrows_its_organization_is_a_party_to(client_party, supplier_party, outsider):
    escrow_between(client_party, supplier_party, total="1111.00")
    escrow_between(outsider, supplier_party, total="2222.00")

    client_list = logged_in(client_party.admin).get(ESCROWS).content.decode()
    supplier_list = logged_in(supplier_party.admin).get(ESCROWS).content.decode()

    assert "1111.00 EUR" in client_list and "2222.00 EUR" not in client_list
    assert outsider.org.name not in client_list
    assert "1111.00 EUR" in supplier_list and "2222.00 EUR" in supplier_list  # a party to both


def test_another_organizations_escrow_page_answers_as_one_that_does_not_exist(client_party, supplier_party, outsider):
    theirs = escrow_between(outsider, supplier_party)
    client = logged_in(client_party.admin)

    other = client.get(escrow_page(theirs), follow=True)
    unknown = client.get(reverse("admin:escrow_escrow_change", args=[uuid.uuid4()]), follow=True)

    assert other.redirect_chain == unknown.redirect_chain == [(reverse("admin:index"), 302)]
    assert "doesn\u2019t exist" in other.content.decode()
    assert outsider.org.name not in other.content.decode()


def test_an_org_admin_can_filter_by_the_currency_of_an_escrow_it_holds_no_account_in(supplier_party, outsider):
    fund_escrow(outsider, escrow_between(outsider, supplier_party, total="730.00", currency="USD"))
    client = logged_in(supplier_party.admin)  # the USD is held in the client's account, not theirs

    listed = client.get(ESCROWS).content.decode()
    filtered = client.get(ESCROWS, {"currency": "USD"})

    assert "?currency=USD" in listed
    assert [escrow.currency for escrow in filtered.context["cl"].result_list] == ["USD"]


def test_an_escrow_page_shows_its_history_payments_and_entries_read_only(client_party, funded_escrow, staff):
    page = logged_in(staff).get(escrow_page(funded_escrow))

    body = page.content.decode()
    assert page.status_code == 200
    assert "Funding of " + funded_escrow.number in body  # the entry, with its postings
    assert "Held in escrow EUR (Baltic Shippers)" in body and "Provider clearing EUR (sandbox)" in body
    assert "payment transactions" in body.lower() and "history" in body.lower()
    assert 'name="_save"' not in body
    assert 'name="number"' not in body  # shown, not an input


def test_an_org_admin_sees_only_its_own_lines_of_an_entry_it_shares(client_party, supplier_party, funded_escrow):
    release(client_party, funded_escrow, "400.00")
    [release_entry] = [entry for entry in entries_of(funded_escrow) if entry.kind == "release"]

    supplier_view = logged_in(supplier_party.admin).get(escrow_page(funded_escrow)).content.decode()
    client_view = logged_in(client_party.admin).get(escrow_page(funded_escrow)).content.decode()
    entry_view = logged_in(supplier_party.admin).get(
        reverse("admin:escrow_journalentry_change", args=[release_entry.pk])
    )

    assert "Available EUR (Volga Carriers)" in supplier_view
    assert "Held in escrow EUR (Baltic Shippers)" not in supplier_view
    assert "Platform commission" not in supplier_view
    assert "Held in escrow EUR (Baltic Shippers)" in client_view
    assert "Available EUR (Volga Carriers)" not in client_view
    assert entry_view.status_code == 200
    assert "388.00 EUR" in entry_view.content.decode()  # 400.00 less 3 % commission
    assert "400.00 EUR" not in entry_view.content.decode()  # the client's held line


# --- Nothing of the ledger is written by hand -----------------------------------------------------


@pytest.mark.parametrize(
    "model", ["escrow", "journalentry", "posting", "ledgeraccount", "webhookevent", "exchangerate"]
)
def test_nothing_of_escrow_and_the_ledger_can_be_added_by_hand(model, staff):
    client = logged_in(staff)

    add = client.get(reverse(f"admin:escrow_{model}_add"))
    listed = client.get(reverse(f"admin:escrow_{model}_changelist")).content.decode()

    assert add.status_code == 403
    assert reverse(f"admin:escrow_{model}_add") not in listed


def test_an_escrow_page_offers_no_save_and_no_delete(funded_escrow, staff):
    client = logged_in(staff)

    page = client.get(escrow_page(funded_escrow)).content.decode()
    delete = client.post(reverse("admin:escrow_escrow_delete", args=[funded_escrow.pk]), {"post": "yes"})

    assert 'name="_save"' not in page and "deletelink" not in page
    assert delete.status_code == 403
    assert stored(funded_escrow).status == EscrowStatus.FUNDED


# --- The manual adjustment ----------------------------------------------------------------------


def test_staff_credit_an_organization_with_a_balanced_audited_entry(supplier_party, staff):
    client = logged_in(staff)

    response = client.post(ADJUST, adjustment(supplier_party.org, amount="25.00"), follow=True)

    assert "Credited 25.00 EUR to the available balance of Volga Carriers" in response.content.decode()
    [entry] = adjustments_of(supplier_party.org)
    postings = sorted(entry.postings.all(), key=lambda posting: posting.amount)
    assert [(posting.account_kind, posting.amount) for posting in postings] == [
        ("available", Decimal("-25.00")),  # a credit to what the platform owes the organization
        ("commission", Decimal("25.00")),
    ]
    assert sum(posting.amount for posting in postings) == 0
    assert entry.created_by_id == staff.id
    assert entry.description == "Manual adjustment: Goodwill: the delivery of ESC-1 was late twice."
    [row] = audit_rows("ledger.adjusted", supplier_party.org)
    assert (row.actor_id, row.new_values["amount"], row.new_values["direction"]) == (staff.id, "25.00", "credit")
    assert available_balance(supplier_party.org) == {"EUR": Decimal("25.00")}


def test_a_debit_takes_from_the_organizations_available_balance(supplier_party, staff):
    client = logged_in(staff)
    client.post(ADJUST, adjustment(supplier_party.org, amount="100.00"))

    response = client.post(ADJUST, adjustment(supplier_party.org, amount="40.00", direction="debit"), follow=True)

    assert "Debited 40.00 EUR from the available balance of Volga Carriers" in response.content.decode()
    assert available_balance(supplier_party.org) == {"EUR": Decimal("60.00")}
    assert len(audit_rows("ledger.adjusted", supplier_party.org)) == 2


def test_a_debit_larger_than_the_available_balance_is_refused_and_writes_nothing(supplier_party, staff):
    client = logged_in(staff)
    client.post(ADJUST, adjustment(supplier_party.org, amount="30.00"))

    response = client.post(ADJUST, adjustment(supplier_party.org, amount="30.01", direction="debit"))

    assert response.status_code == 200  # the form again
    assert "Only 30.00 EUR is available." in response.content.decode()
    assert available_balance(supplier_party.org) == {"EUR": Decimal("30.00")}
    assert len(adjustments_of(supplier_party.org)) == 1


def test_an_adjustment_without_a_reason_is_refused_and_writes_nothing(supplier_party, staff):
    response = logged_in(staff).post(ADJUST, adjustment(supplier_party.org, reason="   "))

    assert response.status_code == 200  # the form again
    assert "Say why: the reason is kept with the entry and in the audit log." in response.content.decode()
    assert adjustments_of(supplier_party.org) == []
    assert audit_rows("ledger.adjusted", supplier_party.org) == []


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("10.005", "EUR amounts have at most 2 decimal places."),
        ("-5.00", "Must be greater than 0."),
        ("ten euros", "Not a decimal amount."),
    ],
)
def test_a_bad_amount_shows_the_services_error_beside_it_and_writes_nothing(amount, problem, supplier_party, staff):
    response = logged_in(staff).post(ADJUST, adjustment(supplier_party.org, amount=amount))

    assert response.status_code == 200
    assert response.context["form"].errors == {"amount": [problem]}
    assert problem in response.content.decode()
    assert adjustments_of(supplier_party.org) == []
    assert available_balance(supplier_party.org) == {}


def test_an_unknown_currency_shows_the_services_error_and_writes_nothing(supplier_party, staff):
    response = logged_in(staff).post(ADJUST, adjustment(supplier_party.org, currency="xyz"))

    assert response.context["form"].errors == {"currency": ["Not an ISO 4217 currency in use."]}
    assert adjustments_of(supplier_party.org) == []


def test_an_org_admin_cannot_reach_the_adjustment(supplier_party):
    client = logged_in(supplier_party.admin)

    page = client.get(ADJUST)
    posted = client.post(ADJUST, adjustment(supplier_party.org))
    ledger = client.get(LEDGER).content.decode()
    accounts = client.get(ACCOUNTS).content.decode()

    assert page.status_code == posted.status_code == 403
    assert ADJUST not in ledger and ADJUST not in accounts
    assert adjustments_of(supplier_party.org) == []


def test_the_adjustment_form_is_prefilled_from_the_ledger_page(supplier_party, staff):
    client = logged_in(staff)

    ledger = client.get(LEDGER, {"organization": str(supplier_party.org.pk), "currency": "EUR"}).content.decode()
    form = client.get(ADJUST, {"organization": str(supplier_party.org.pk), "currency": "EUR"})

    assert f"{ADJUST}?organization={supplier_party.org.pk}&amp;currency=EUR" in ledger
    assert form.context["form"]["organization"].value() == supplier_party.org.pk
    assert f'<option value="{supplier_party.org.pk}" selected>Volga Carriers</option>' in form.content.decode()


def test_the_adjustment_form_finds_the_organization_by_name(supplier_party, outsider, staff):
    found = logged_in(staff).get(
        reverse("admin:autocomplete"),
        {"app_label": "escrow", "model_name": "ledgeraccount", "field_name": "organization", "term": "volga"},
    )

    assert found.status_code == 200
    assert [row["text"] for row in found.json()["results"]] == ["Volga Carriers"]


# --- The ledger page ----------------------------------------------------------------------------


def balance_rows(page) -> dict[str, str]:
    return {row["kind"] + " " + row["currency"]: row["balance"] for row in page.context["balances"]}


def test_the_ledger_page_shows_the_balances_of_the_chosen_organization(
    client_party, supplier_party, funded_escrow, staff
):
    release(client_party, funded_escrow, "400.00")
    client = logged_in(staff)

    supplier = client.get(LEDGER, {"organization": str(supplier_party.org.pk)})
    buyer = client.get(LEDGER, {"organization": str(client_party.org.pk)})
    platform = client.get(LEDGER, {"organization": "platform"})

    assert balance_rows(supplier) == {"available EUR": "388.00 EUR"}
    assert "Balances of Volga Carriers" in supplier.content.decode()
    assert balance_rows(buyer) == {"held EUR": "600.00 EUR"}
    assert balance_rows(platform) == {"clearing EUR": "1000.00 EUR", "commission EUR": "12.00 EUR"}
    lines = supplier.context["cl"].result_list
    assert [(line.account_kind, line.amount) for line in lines] == [("available", Decimal("-388.00"))]


def test_the_ledger_page_without_an_organization_asks_staff_to_choose_one(funded_escrow, staff):
    page = logged_in(staff).get(LEDGER)

    assert page.status_code == 200
    assert page.context["balances"] is None
    assert "Choose an organization" in page.content.decode()


def test_an_org_admins_ledger_shows_only_its_own_lines_and_balances(client_party, supplier_party, funded_escrow):
    release(client_party, funded_escrow, "400.00")

    page = logged_in(supplier_party.admin).get(LEDGER)

    lines = page.context["cl"].result_list
    assert {line.organization_id for line in lines} == {supplier_party.org.id}
    assert balance_rows(page) == {"available EUR": "388.00 EUR"}
    assert "Platform accounts" not in page.content.decode()  # no organization filter for them


def test_an_org_admin_cannot_see_another_organizations_lines_by_the_filter(client_party, supplier_party, funded_escrow):
    release(client_party, funded_escrow, "400.00")

    page = logged_in(supplier_party.admin).get(LEDGER, {"organization": str(client_party.org.pk)}, follow=True)

    # Not a filter of theirs: Django's admin answers an unknown parameter with the plain list.
    assert page.redirect_chain == [(LEDGER + "?e=1", 302)]
    assert {line.organization_id for line in page.context["cl"].result_list} == {supplier_party.org.id}
    assert balance_rows(page) == {"available EUR": "388.00 EUR"}


def test_the_accounts_page_shows_each_accounts_balance(client_party, supplier_party, funded_escrow, staff):
    release(client_party, funded_escrow, "400.00")

    page = logged_in(staff).get(ACCOUNTS)

    posted = {account.kind: account.posted for account in page.context["cl"].result_list}
    assert posted == {  # sums of postings: credits negative
        "held": Decimal("-600.00"),  # the client's
        "available": Decimal("-388.00"),  # the supplier's
        "commission": Decimal("-12.00"),
        "clearing": Decimal("1000.00"),  # the sandbox provider's
    }
    body = page.content.decode()  # shown as their owners read them
    assert all(shown in body for shown in ["600.00 EUR", "388.00 EUR", "12.00 EUR", "1000.00 EUR"])
    assert "-600.00" not in body


# --- A disputed escrow ---------------------------------------------------------------------------


def test_a_disputed_escrow_links_staff_to_its_case_and_offers_no_settlement_of_its_own(
    client_party, funded_escrow, staff
):
    dispute(client_party, funded_escrow)

    page = logged_in(staff).get(escrow_page(funded_escrow)).content.decode()

    case_list = reverse("admin:disputes_dispute_changelist")
    assert f"{case_list}?q={funded_escrow.order_number}" in page
    assert "/resolve/" not in page


# --- The platform's records ----------------------------------------------------------------------


def test_staff_see_webhook_events_and_exchange_rates(client_party, funded_escrow, staff):
    with system_scope(reason="test stores a rate", audit=False):
        services.exchange_rates_refresh()
    client = logged_in(staff)

    webhooks = client.get(WEBHOOKS)
    rates = client.get(RATES)

    assert webhooks.status_code == rates.status_code == 200
    assert "charge.succeeded" in webhooks.content.decode()
    assert len(rates.context["cl"].result_list) > 0


@pytest.mark.parametrize("url", [WEBHOOKS, RATES])
def test_org_admins_do_not_see_the_platforms_records(url, supplier_party):
    client = logged_in(supplier_party.admin)

    assert client.get(url).status_code == 403
    assert url not in client.get(reverse("admin:index")).content.decode()


# --- Query counts ---------------------------------------------------------------------------------


def _escrows(parties, count: int) -> None:
    client, supplier, outsider = parties
    for index in range(count):
        payer = client if index % 2 else outsider
        fund_escrow(payer, escrow_between(payer, supplier))


def _adjustments(parties, count: int) -> None:
    for index in range(count):
        with system_scope(reason="test adjusts", audit=False):
            services.ledger_adjust(
                actor=Actor.system(),
                organization_id=parties[index % 3].org.id,
                currency="EUR",
                amount="5.00",
                direction="credit",
                reason="Test.",
            )


def _exchange_rates(parties, count: int) -> None:
    with system_scope(reason="test stores rates", audit=False):
        start = ExchangeRate.objects.count()
        for index in range(start, start + count):
            ExchangeRate.objects.create(
                base="EUR", quote=f"Q{index:02d}", rate=Decimal("1.1"), as_of="2026-01-01T00:00Z", provider="test"
            )


@pytest.mark.parametrize(
    ("url", "queries", "make_rows"),
    [
        # user, OTP device, savepoint, all-tenants scope, its audit row, count, page, release,
        # restore (the savepoint and the restore only because the test runs in a transaction)
        pytest.param(ENTRIES, 9, _escrows, id="entries"),
        pytest.param(WEBHOOKS, 9, _escrows, id="webhooks"),
        # ... and the currency filter's choices (from the accounts)
        pytest.param(ESCROWS, 10, _escrows, id="escrows"),
        pytest.param(ACCOUNTS, 10, _adjustments, id="accounts"),  # balances come with the page
        # ... and the base currency filter's choices
        pytest.param(RATES, 10, _exchange_rates, id="rates"),
        # ... and the balances, the organization filter's and the currency filter's choices
        pytest.param(LEDGER + "?organization=platform", 12, _escrows, id="ledger"),
    ],
)
def test_a_changelist_runs_the_same_queries_for_few_or_many_rows(
    url, queries, make_rows, client_party, supplier_party, outsider, staff, django_assert_num_queries
):
    parties = (client_party, supplier_party, outsider)
    client = logged_in(staff)
    make_rows(parties, 2)
    client.get(url)  # warm what is cached per process (content types, currencies)

    with django_assert_num_queries(queries) as few:
        assert client.get(url).status_code == 200
    make_rows(parties, 4)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # user, savepoint, user scope, memberships, tenant scope, the currency filter's choices,
        # count, Django's two permission queries, page, release, restore
        pytest.param(ESCROWS, 12, id="escrows"),
        pytest.param(LEDGER, 13, id="ledger"),  # ... and the balances
    ],
)
def test_an_org_admins_changelist_runs_the_same_queries_for_few_or_many_rows(
    url, queries, client_party, supplier_party, outsider, django_assert_num_queries
):
    parties = (client_party, supplier_party, outsider)
    client = logged_in(supplier_party.admin)
    _escrows(parties, 2)
    client.get(url)

    with django_assert_num_queries(queries) as few:
        assert client.get(url).status_code == 200
    _escrows(parties, 4)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
