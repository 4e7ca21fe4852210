"""The demo data of `make run`: conversations to look at, made through the services, once."""

import pytest
from django.core.management import call_command

from apps.chat.models import Message, Thread
from apps.core.context import system_scope

pytestmark = pytest.mark.django_db


def _conversations():
    with system_scope(reason="test: the demo rows", audit=False):
        return sorted(
            (thread.kind, list(Message.objects.filter(thread=thread).order_by("seq").values_list("seq", flat=True)))
            for thread in Thread.objects.all()
        )


def test_seed_demo_opens_an_order_thread_and_an_offer_thread_once(capsys):
    call_command("seed_demo")
    first = _conversations()
    call_command("seed_demo")

    assert first == [("order", [1, 2, 3]), ("rfq", [1, 2])]
    assert _conversations() == first
    assert "chat: Baltic Shippers and Volga Carriers talk about" in capsys.readouterr().out
