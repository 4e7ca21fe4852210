"""The lifecycle table through the API: every move it allows, made by each one it allows it to
(the opener, the awaited side's answer, staff, the deadline job, the parties' agreement),
succeeds; every move it does not allow, asked for by the opener or by staff, is 422
INVALID_STATE_TRANSITION and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.disputes import services
from apps.disputes.models import DisputeStatus as S
from apps.disputes.transitions import AGREEMENT, ANSWER, MOVES, OPENER, STAFF, SYSTEM
from tests.disputes.test_disputes_api import open_case

pytestmark = pytest.mark.django_db


class Case:
    """One case between the fixtures' parties, driven through the API."""

    def __init__(self, api, client_party, supplier_party, mediator, order):
        self.api, self.client, self.supplier, self.mediator = api, client_party, supplier_party, mediator
        response = open_case(api, client_party, order)  # the client opens: the supplier answers
        assert response.status_code == 201, response.json()
        self.id = response.json()["id"]

    @property
    def url(self) -> str:
        return f"/api/v1/disputes/{self.id}"

    def status(self) -> str:
        return self.api(self.mediator).get(self.url).json()["status"]

    def put_status(self, user, status: str, **extra):
        return self.api(user).put(f"{self.url}/status", {"status": status, "reason": "r", **extra}, format="json")

    def evidence(self, party):
        return self.api(party.staff).post(f"{self.url}/evidence", {"statement": "Our answer."}, format="json")

    def resolution(self, kind: str):
        return self.api(self.mediator).post(
            f"{self.url}/resolution",
            {"kind": kind, "outcome": "refund", "reason": "Decided."},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid4().hex,
        )

    def answer_both(self):
        for party in (self.client, self.supplier):
            response = self.api(party.staff).put(f"{self.url}/resolution", {"answer": "accept"}, format="json")
            assert response.status_code == 200, response.json()

    def deadline_job(self, *, after: timedelta):
        with tenant_scope(self.client.org.id):
            services.disputes_deadlines_apply(now=timezone.now() + after)

    # --- getting the case into a status ------------------------------------------------------

    def reach(self, status: str) -> None:
        steps = {
            S.CREATED: [],
            S.UNDER_REVIEW: [lambda: self.evidence(self.supplier)],
            S.IN_MEDIATION: [lambda: self.put_status(self.mediator, S.IN_MEDIATION)],
            S.AWAITING_RESPONSE: [
                lambda: self.put_status(self.mediator, S.IN_MEDIATION),
                lambda: self.put_status(self.mediator, S.AWAITING_RESPONSE, side="client"),
            ],
            S.RESOLVED: [
                lambda: self.put_status(self.mediator, S.IN_MEDIATION),
                lambda: self.resolution("decision"),
            ],
            S.CLOSED: [
                lambda: self.put_status(self.mediator, S.IN_MEDIATION),
                lambda: self.resolution("decision"),
                lambda: self.put_status(self.mediator, S.CLOSED),
            ],
            S.WITHDRAWN: [lambda: self.put_status(self.client.staff, S.WITHDRAWN)],
        }[status]
        for step in steps:
            response = step()
            assert response.status_code in (200, 201), response.json()
        assert self.status() == status

    # --- making a move as `who` ---------------------------------------------------------------

    def move(self, target: str, who: str) -> None:
        if who == OPENER:
            response = self.put_status(self.client.staff, target)
        elif who == ANSWER:
            awaited = self.api(self.mediator).get(self.url).json()["response_side"]
            response = self.evidence(self.client if awaited == "client" else self.supplier)
        elif who == STAFF and target == S.AWAITING_RESPONSE:
            response = self.put_status(self.mediator, target, side="supplier")
        elif who == STAFF and target == S.RESOLVED:
            response = self.resolution("decision")
        elif who == STAFF:
            response = self.put_status(self.mediator, target)
        elif who == SYSTEM:
            self.deadline_job(after=timedelta(days=30))
            return
        elif who == AGREEMENT and target == S.RESOLVED:
            assert self.resolution("proposal").status_code == 201
            self.answer_both()  # the agreed proposal is decided, and the agreed case closes
            return
        elif who == AGREEMENT:
            self.answer_both()
            return
        assert response.status_code in (200, 201), response.json()


LEGAL = [
    (source, target, who) for source, moves in MOVES.items() for target, rule in moves.items() for who in sorted(rule)
]
ILLEGAL = [
    (source, target) for source in S.values for target in S.values if target != source and target not in MOVES[source]
]


@pytest.fixture
def make_case(api, client_party, supplier_party, mediator, order, funded_escrow):
    return lambda: Case(api, client_party, supplier_party, mediator, order)


@pytest.mark.parametrize(("source", "target", "who"), LEGAL, ids=[f"{s}-{t}-by-{w}" for s, t, w in LEGAL])
def test_every_move_of_the_table_is_made_by_whom_it_names(make_case, source, target, who):
    case = make_case()
    case.reach(source)

    case.move(target, who)

    # agreement on a proposal resolves the case and, both having accepted, closes it at once
    expected = S.CLOSED if (who == AGREEMENT and target == S.RESOLVED) else target
    assert case.status() == expected


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}-{t}" for s, t in ILLEGAL])
@pytest.mark.parametrize("asker", ["opener", "staff"])
def test_every_move_outside_the_table_is_422_and_changes_nothing(make_case, source, target, asker):
    case = make_case()
    case.reach(source)

    response = case.put_status(case.client.staff if asker == "opener" else case.mediator, target, side="client")

    assert response.status_code == 422, response.json()
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert case.status() == source
