"""Scenario `chat` (issue 18): a message from the API to the sockets, a thread's history and the thread list.

The data (`_seed`, written with bulk_create on the owner's connection, as the other scenarios
seed): a shipper's member takes part in `--threads` threads (1,000) with `--partners`
organizations (50) in turn, each partner's member in its own; the first partner is the carrier
whose member's sockets listen. The threads are about orders, RFQ offers and disputes, the
shipper on either side; each has its messages (0-30, numbered 1..last_seq) and the member's
read marker somewhere in them (all read, none, half), so the list's unread counts vary. The
first thread (with the carrier, the most recently active) holds `--messages` messages
(100,000), one every 30 seconds back from now, written by both sides, some with an attachment,
some edited, deleted or masked by moderation.

Three measurements:

- `history_in_process_ms` (goal < 15): GET /api/v1/chat/threads/{id}/messages of the big
  thread as its shipper's member, the default first page (50 messages, newest first), serially
  in this process through Django's handler (no server), median of `--requests` after a
  warm-up. `history_deep_in_process_ms`: the page at the middle of the thread (a cursor at
  seq messages/2), which the (thread, seq) index serves as it serves the first.
  `history_sql_custom_plan_ms` / `history_sql_generic_plan_ms`: the first page's statement
  under EXPLAIN ANALYZE as the application role, planned for its thread and for any thread.
  The application prepares statements (psycopg, after five executions), and PostgreSQL then
  runs the generic plan whenever it estimates it no costlier than the custom ones: which of
  the two a run's history median shows depends on the statistics ANALYZE sampled.
- `threads_in_process_ms` (goal < 20): GET /api/v1/chat/threads as the same member (in every
  thread): the default first page (20 threads, most recently active first) with the member's
  unread count per thread in the list's own query, and meta.total.
- `delivery_p95_ms` (goal < 100): `--servers` uvicorn processes (2) of the project; `--sockets`
  WebSockets (200), signed in as the carrier's member, spread over them in turn, each
  subscribed to `thread.<id>` of one of the `--live-threads` threads with the carrier (20: ten
  sockets a thread). A poster in another process (forked: its CPU is not the sockets') then
  sends `--rounds` messages to each of those threads (400 in all) by real HTTP, `POST
  /api/v1/chat/threads/{id}/messages` as the shipper's member, alternating the servers, at a
  steady `--rate` (20 a second; a POST that overruns its slot delays the next, none is
  skipped), after ten untimed messages a server. Each message's text carries the wall-clock
  moment just before its POST; a socket takes the `message.sent` frame's arrival minus that
  moment: one machine, one clock. So the figure is the whole path: HTTP, authentication, the
  tenant scope, the send service (lock, moderation, the row, the outbox) and its commit, then
  the push through Redis to both ASGI processes and their sockets.

Before timing, the answers are checked: 200, full pages, the newest message first, the
member's total of threads, unread counts as seeded; every POST answered 201 and every
frame's text is the text sent.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import multiprocessing
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from bench.api_overhead import _in_process
from bench.environment import progress
from bench.stats import Metric, median, percentile
from bench.tracking_live import _forget_inherited_connections, _free_port, _start_server, _wait_healthy

DATABASE = "bench_chat"
SCENARIO = "chat"
HISTORY_PAGE = 50  # apps.chat.api.views.HistoryPagination: StreamPagination's default page
THREAD_PAGE = 20  # apps.core.pagination.PagePagination's default page
MESSAGE_SPACING_S = 30  # the big thread: one message every 30 seconds, back from now
SENT_AT = "sent_at="
WARMUP = "Warm-up message"
WARMUP_POSTS = 10  # untimed, per server, before the measured messages

THREAD_KINDS = ["order"] * 12 + ["rfq"] * 5 + ["dispute"] * 3
TEXTS = [
    "Truck arrives at the warehouse at 09:00, gate 4.",
    "Можем забрать груз завтра утром, подтвердите адрес склада.",
    "CMR attached, please check the consignee's details.",
    "Водитель на месте, ждём погрузку.",
    "The pallets are stretch-wrapped; 12 of them, 8.4 t in total.",
    "Счёт на предоплату отправили, оплата в течение трёх дней.",
    "Customs cleared at Brest, moving on to Minsk.",
    "Please confirm the unloading slot for Friday.",
]


def add_arguments(parser) -> None:
    parser.add_argument("--threads", type=int, default=1000, help="threads the member takes part in (default 1000)")
    parser.add_argument("--messages", type=int, default=100_000, help="messages of the big thread (default 100000)")
    parser.add_argument("--partners", type=int, default=50, help="organizations the threads are with (default 50)")
    parser.add_argument("--requests", type=int, default=200, help="serial requests per read endpoint (default 200)")
    parser.add_argument("--sockets", type=int, default=200, help="sockets, spread over the servers (default 200)")
    parser.add_argument("--live-threads", type=int, default=20, help="threads the sockets listen to (default 20)")
    parser.add_argument("--rounds", type=int, default=20, help="messages posted per listened thread (default 20)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages posted per second (default 20)")
    parser.add_argument("--servers", type=int, default=2, help="ASGI processes (default 2)")


@dataclass(frozen=True)
class Seeded:
    member_id: UUID  # the shipper's member: in every thread; reads and posts
    member_organization_id: UUID
    listener_id: UUID  # the carrier's member: every socket signs in as them
    history_thread_id: UUID
    live_thread_ids: list[UUID]  # the threads with the carrier, most recently active first
    unread: dict[UUID, int]  # the member's unread count per thread, as seeded
    threads: int
    messages: int


# --- The data ---------------------------------------------------------------------------------


def _message_count(index: int, *, messages: int) -> int:
    return messages if index == 0 else (index * 7) % 31


def _read_up_to(index: int, last_seq: int) -> int:
    """Where the member's read marker is: all read, none, or half (the big thread: 37 unread)."""
    if index == 0:
        return max(0, last_seq - 37)
    return (last_seq, 0, last_seq // 2)[index % 3]


def _seed(*, threads: int, messages: int, partners: int = 50) -> Seeded:
    """The organizations, their members, the threads with their messages and read markers."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone

    from apps.chat.models import Message, MessageAttachment, Thread, ThreadParticipant
    from apps.core.context import system_scope
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    started = time.perf_counter()
    user_model = get_user_model()
    now = timezone.now()
    shipper = Organization(name="Baltic Shippers (bench)", slug="bench-chat-shipper", country="DE")
    others = [
        Organization(name=f"Partner {n:02d} Logistics", slug=f"bench-chat-partner-{n:02d}", country="PL")
        for n in range(partners)
    ]
    others[0].name, others[0].slug = "Volga Carriers (bench)", "bench-chat-carrier"
    member = user_model(
        email="shipper@chat.bench", first_name="Anna", last_name="Shipper", password=make_password(None)
    )
    partner_users = [
        user_model(
            email=f"member@partner{n:02d}.chat.bench",
            first_name="Ivan",
            last_name=f"Partner{n:02d}",
            password=make_password(None),
        )
        for n in range(partners)
    ]
    memberships = [Membership(organization=shipper, user=member, role=Role.SHIPPER, joined_at=now)] + [
        Membership(organization=organization, user=user, role=Role.CARRIER, joined_at=now)
        for organization, user in zip(others, partner_users, strict=True)
    ]

    thread_rows, participants, message_rows, attachments, unread = [], [], [], [], {}
    for index in range(threads):
        other, other_user = others[index % partners], partner_users[index % partners]
        last_seq = _message_count(index, messages=messages)
        # The shipper opened most subjects (party A); in three threads of ten the partner did.
        party_a, party_b = (shipper, other) if index % 10 < 7 else (other, shipper)
        kind = THREAD_KINDS[index % len(THREAD_KINDS)]
        last_activity = now - timedelta(minutes=7 * index, seconds=(index * 13) % 97)
        thread = Thread(
            kind=kind,
            subject_id=UUID(int=index + 1),
            title=f"{kind.title()} BENCH-{index + 1:06d}",
            party_a_organization=party_a,
            party_b_organization=party_b,
            party_a_name=party_a.name,
            party_b_name=party_b.name,
            created_by=member,
            last_seq=last_seq,
            last_message_at=last_activity if last_seq else None,
            last_activity_at=last_activity,
        )
        thread_rows.append(thread)
        parties = {"party_a_organization": party_a, "party_b_organization": party_b}
        read_up_to = _read_up_to(index, last_seq)
        unread[thread.id] = last_seq - read_up_to
        participants += [
            ThreadParticipant(
                thread=thread,
                **parties,
                user=member,
                organization=shipper,
                display_name="Anna Shipper",
                last_read_seq=read_up_to,
                last_read_at=last_activity if read_up_to else None,
            ),
            ThreadParticipant(
                thread=thread,
                **parties,
                user=other_user,
                organization=other,
                display_name=f"Ivan {other_user.last_name}",
                last_read_seq=last_seq,
                last_read_at=last_activity if last_seq else None,
            ),
        ]
        for seq in range(1, last_seq + 1):
            # Both sides write; the times go in afterwards (created_at is auto_now_add).
            sender, organization = (member, shipper) if seq % 2 else (other_user, other)
            written = last_activity - timedelta(seconds=MESSAGE_SPACING_S * (last_seq - seq))
            message = Message(
                thread=thread,
                **parties,
                seq=seq,
                sender=sender,
                sender_organization=organization,
                sender_name=f"{sender.first_name} {sender.last_name}",
                body=f"{TEXTS[seq % len(TEXTS)]} (#{seq})",
            )
            if seq % 53 == 0:
                message.original_body = f"Call me on +7 912 345-67-{seq % 100:02d} (#{seq})"
                message.body = f"Call me on [contact hidden] (#{seq})"
                message.moderation_findings = ["phone"]
            if seq % 97 == 0:
                message.edited_at = written + timedelta(minutes=2)
            if seq % 211 == 0:
                message.deleted_at, message.deleted_by = written + timedelta(minutes=5), sender
            message_rows.append(message)
            if seq % 40 == 0:
                attachments.append(
                    MessageAttachment(
                        message=message,
                        thread=thread,
                        uploaded_by=sender,
                        **parties,
                        file=f"chat/{party_a.id}/{thread.id}/{seq}.pdf",
                        filename=f"CMR-{seq:06d}.pdf",
                        content_type="application/pdf",
                        size=48_213 + seq % 1000,
                        sha256=f"{seq:064x}",
                    )
                )

    connection = connections["owner"]
    with system_scope(reason="bench chat seed", using="owner", audit=False), connection.cursor() as cursor:
        Organization.objects.using("owner").bulk_create([shipper, *others])
        user_model.objects.using("owner").bulk_create([member, *partner_users])
        Membership.objects.using("owner").bulk_create(memberships)
        Thread.objects.using("owner").bulk_create(thread_rows, batch_size=2000)
        ThreadParticipant.objects.using("owner").bulk_create(participants, batch_size=5000)
        Message.objects.using("owner").bulk_create(message_rows, batch_size=5000)
        MessageAttachment.objects.using("owner").bulk_create(attachments, batch_size=5000)
        # The times auto_now_add overwrote: the thread's messages every 30 s up to its last activity.
        cursor.execute(
            """UPDATE chat_message m
               SET created_at = t.last_activity_at - make_interval(secs => %s * (t.last_seq - m.seq))
               FROM chat_thread t WHERE m.thread_id = t.id""",
            [MESSAGE_SPACING_S],
        )
        cursor.execute(
            "UPDATE chat_thread SET created_at = last_activity_at - make_interval(secs => %s * last_seq + 3600)",
            [MESSAGE_SPACING_S],
        )
    with connection.cursor() as cursor:
        for model in (Thread, ThreadParticipant, Message, MessageAttachment):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")  # outside any transaction, as VACUUM must be
    progress(
        f"seeded {threads} threads with {partners} partners, {len(message_rows)} messages "
        f"({messages} in one thread), {len(attachments)} attachments in {time.perf_counter() - started:.1f}s"
    )
    live = [thread.id for index, thread in enumerate(thread_rows) if index % partners == 0]
    return Seeded(
        member_id=member.id,
        member_organization_id=shipper.id,
        listener_id=partner_users[0].id,
        history_thread_id=thread_rows[0].id,
        live_thread_ids=live,
        unread=unread,
        threads=threads,
        messages=messages,
    )


def _access_token(user_id: UUID) -> str:
    """A real sign-in session, opened on the application's connection (the seeded instance
    belongs to the owner's, and Django refuses to relate rows across connections)."""
    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start

    return session_start(user=get_user_model().objects.get(pk=user_id)).access


# --- In process: the history and the thread list ------------------------------------------------


def _history_cursor(seq: int) -> str:
    """DRF's cursor of a page that continues below `seq` (HistoryPagination orders by -seq)."""
    return base64.b64encode(f"p={seq}".encode("ascii")).decode("ascii")


def _check_history(body: dict, *, newest: int) -> None:
    seqs = [row["seq"] for row in body["data"]]
    if len(seqs) != HISTORY_PAGE or seqs[0] != newest or seqs != sorted(seqs, reverse=True):
        raise RuntimeError(f"not the {HISTORY_PAGE} messages from #{newest} down: {seqs[:3]}...{seqs[-3:]}")
    if not body["meta"]["next"]:
        raise RuntimeError("the history page has no next cursor")


def _check_threads(body: dict, seeded: Seeded) -> None:
    rows, meta = body["data"], body["meta"]
    if len(rows) != min(THREAD_PAGE, seeded.threads) or meta["total"] != seeded.threads:
        raise RuntimeError(f"{len(rows)} threads on the page of {meta['total']}: not the member's {seeded.threads}")
    if rows[0]["id"] != str(seeded.history_thread_id):
        raise RuntimeError("the most recently active thread is not first")
    wrong = [row["id"] for row in rows if row["unread_count"] != seeded.unread[UUID(row["id"])]]
    if wrong:
        raise RuntimeError(f"unread counts differ from the seed in threads {wrong}")


def _plan_summary(node: dict) -> str:
    """A plan in one line: each node, its index, the rows it gave; children in brackets."""
    name = node["Node Type"] + (" Backward" if node.get("Scan Direction") == "Backward" else "")
    name += f" on {node['Index Name']}" if "Index Name" in node else ""
    if node["Node Type"] not in {"BitmapAnd", "BitmapOr"}:  # they count no rows
        name += f" ({int(node['Actual Rows'])} rows)"
    children = ", ".join(_plan_summary(child) for child in node.get("Plans", ()) if child["Node Type"] != "Result")
    return name + (f" [{children}]" if children else "")


def _rows_scanned(node: dict) -> int:
    """The most rows a scan of the table itself gave (index entries of a bitmap not counted)."""
    kind = node["Node Type"]
    own = int(node["Actual Rows"]) if kind.endswith("Scan") and kind != "Bitmap Index Scan" else 0
    return max([own, *(_rows_scanned(child) for child in node.get("Plans", ()))])


def _numbered_placeholders(statement: str) -> str:
    """Django's `%s` placeholders as PREPARE's `$1, $2, ...`."""
    numbers = iter(range(1, statement.count("%s") + 1))
    return re.sub(r"(?<!%)%s", lambda _: f"${next(numbers)}", statement).replace("%%", "%")


def history_page_plans(seeded: Seeded) -> dict[str, dict]:
    """PostgreSQL's plans of the statement the history's first page runs, as the application
    role in the member's scope: planned for its parameters (`custom`) and for any (`generic`:
    what a prepared statement switches to after five executions when PostgreSQL estimates it
    no costlier; the application prepares statements, config/settings/base.py). Each:
    {"ms": planning + execution, "rows_scanned", "plan": one line}."""
    from django.db import connections
    from psycopg import sql as psycopg_sql

    from apps.chat import selectors
    from apps.chat.models import Thread
    from apps.core.context import tenant_scope

    plans = {}
    for mode in ("custom", "generic"):
        scope = tenant_scope(seeded.member_organization_id, user_id=seeded.member_id)
        with scope, connections["default"].cursor() as cursor:
            thread = Thread.objects.get(pk=seeded.history_thread_id)
            # The page as HistoryPagination reads it: the range of the newest numbers, newest first.
            page = (
                selectors.message_history(thread=thread)
                .filter(seq__gt=max(thread.last_seq - HISTORY_PAGE, 0), seq__lte=thread.last_seq)
                .order_by("-seq")
            )
            statement, params = page.query.get_compiler(using="default").as_sql()
            statement = _numbered_placeholders(statement)
            arguments = ", ".join(psycopg_sql.Literal(value).as_string(cursor.connection) for value in params)
            cursor.execute(f"SET LOCAL plan_cache_mode = force_{mode}_plan")
            cursor.execute(f"PREPARE bench_history_page AS {statement}")
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bench_history_page({arguments})")
            explained = cursor.fetchone()[0]
            cursor.execute("DEALLOCATE bench_history_page")
        explained = (json.loads(explained) if isinstance(explained, str) else explained)[0]
        plans[mode] = {
            "ms": float(explained["Planning Time"]) + float(explained["Execution Time"]),
            "rows_scanned": _rows_scanned(explained["Plan"]),
            "plan": _plan_summary(explained["Plan"]),
        }
    return plans


def measure_reads(seeded: Seeded, *, requests: int) -> tuple[list[Metric], dict[str, dict]]:
    """In-process medians of the history's first and middle pages and of the thread list."""
    from django.test import Client

    headers = {"HTTP_AUTHORIZATION": f"Bearer {_access_token(seeded.member_id)}"}
    history = f"/api/v1/chat/threads/{seeded.history_thread_id}/messages"
    middle = seeded.messages // 2
    deep = f"{history}?cursor={_history_cursor(middle + 1)}"
    threads = "/api/v1/chat/threads"

    client = Client(HTTP_HOST="127.0.0.1")
    for path, check in (
        (history, lambda body: _check_history(body, newest=seeded.messages)),
        (deep, lambda body: _check_history(body, newest=middle)),
        (threads, lambda body: _check_threads(body, seeded)),
    ):
        response = client.get(path, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
        check(response.json())

    history_queries, history_ms = _in_process(history, headers, requests=requests)
    deep_queries, deep_ms = _in_process(deep, headers, requests=requests)
    threads_queries, threads_ms = _in_process(threads, headers, requests=requests)
    plans = history_page_plans(seeded)
    progress(
        f"history: {history_queries} queries, median {history_ms:.2f} ms (middle page {deep_ms:.2f} ms); "
        f"threads: {threads_queries} queries, median {threads_ms:.2f} ms; the first page's SQL: "
        f"custom plan {plans['custom']['ms']:.2f} ms, generic plan {plans['generic']['ms']:.2f} ms"
    )

    def metric(name, value, unit):
        return Metric(SCENARIO, name, round(value, 3), unit)

    metrics = [
        metric("history_in_process_ms", history_ms, "ms"),
        metric("threads_in_process_ms", threads_ms, "ms"),
        metric("history_deep_in_process_ms", deep_ms, "ms"),
        metric("history_queries", history_queries, "queries/request"),
        metric("history_deep_queries", deep_queries, "queries/request"),
        metric("threads_queries", threads_queries, "queries/request"),
        metric("history_messages", seeded.messages, "messages"),
        metric("member_threads", seeded.threads, "threads"),
        metric("history_sql_custom_plan_ms", plans["custom"]["ms"], "ms"),
        metric("history_sql_generic_plan_ms", plans["generic"]["ms"], "ms"),
        metric("history_generic_plan_rows_scanned", plans["generic"]["rows_scanned"], "rows"),
    ]
    return metrics, plans


# --- Live: from the POST to the sockets ---------------------------------------------------------


def _post(connection: http.client.HTTPConnection, headers: dict, thread_id: str, text: str) -> tuple[int, bytes]:
    connection.request(
        "POST", f"/api/v1/chat/threads/{thread_id}/messages", body=json.dumps({"text": text}), headers=headers
    )
    response = connection.getresponse()
    return response.status, response.read()


def _post_messages(
    servers: list[str], token: str, schedule: list[str], rate: float, start_after: float, report
) -> None:
    """POST each message of `schedule` (thread ids, in order) at a steady `rate`, alternating
    the servers, each on its keep-alive connection; the text carries the moment just before
    the POST. First WARMUP_POSTS untimed messages a server (its imports, pools and caches).
    Sends (POST milliseconds, the first failure or None) through `report`."""
    _forget_inherited_connections()  # this process speaks HTTP only; the parent's sockets stay the parent's
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connections = [http.client.HTTPConnection(server, timeout=30) for server in servers]
    elapsed, failure = [], None
    time.sleep(start_after)
    try:
        for number in range(WARMUP_POSTS * len(connections)):
            thread_id = schedule[number % len(schedule)]
            status, answer = _post(connections[number % len(connections)], headers, thread_id, f"{WARMUP} {number}")
            if status != 201:
                raise RuntimeError(f"POST to thread {thread_id} answered {status}: {answer[:300]!r}")
        start = time.monotonic()
        for number, thread_id in enumerate(schedule):
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent_at = time.time()
            text = f"Bench message {number}, {SENT_AT}{sent_at:.6f}"
            status, answer = _post(connections[number % len(connections)], headers, thread_id, text)
            elapsed.append((time.time() - sent_at) * 1000)
            if status != 201:
                raise RuntimeError(f"POST to thread {thread_id} answered {status}: {answer[:300]!r}")
    except Exception as error:  # whatever stopped the poster, the parent must hear of it
        failure = f"the poster stopped: {error}"
    report.send((elapsed, failure))
    report.close()


async def _subscriber(server: str, token: str, group: str, ready: asyncio.Event, latencies: list, expected: int):
    import websockets

    async with websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}", max_queue=None) as ws:
        await ws.send(json.dumps({"type": "authenticate", "token": token}))
        json.loads(await ws.recv())  # connected
        await ws.send(json.dumps({"action": "subscribe", "group": group}))
        answer = json.loads(await ws.recv())
        if answer.get("type") != "subscribed":
            raise RuntimeError(f"subscribe to {group} refused: {answer}")
        ready.set()
        received = 0
        while received < expected:
            frame = json.loads(await ws.recv())
            if frame.get("type") != "message.sent":
                continue
            arrived = time.time()
            text = frame["message"]["text"]
            if text.startswith(WARMUP):
                continue
            if SENT_AT not in text:
                raise RuntimeError(f"a message arrived changed: {text!r}")
            latencies.append((arrived - float(text.rsplit(SENT_AT, 1)[1])) * 1000)
            received += 1


async def _poster_report(connection):
    while not connection.poll():
        await asyncio.sleep(0.05)
    return connection.recv()


async def _deliver(
    servers: list[str], seeded: Seeded, tokens: tuple[str, str], *, sockets: int, rounds: int, rate: float
) -> tuple:
    """Open and subscribe the sockets, then start the poster; (latencies, expected, POST milliseconds)."""
    listener, member = tokens
    threads = [str(thread_id) for thread_id in seeded.live_thread_ids]
    listeners = {thread_id: 0 for thread_id in threads}
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in range(sockets)]
    tasks = []
    for number in range(sockets):
        thread_id = threads[number % len(threads)]
        listeners[thread_id] += 1
        subscriber = _subscriber(
            servers[number % len(servers)], listener, f"thread.{thread_id}", readies[number], latencies, rounds
        )
        tasks.append(asyncio.create_task(subscriber))
        if number % 50 == 49:
            await asyncio.sleep(0.05)  # a handshake storm measures the accept queue, not the feed
    timeout = 60 + 2.0 * rounds * len(threads) / rate
    async with asyncio.timeout(60):
        await asyncio.gather(*(ready.wait() for ready in readies))
    progress(f"{sockets} sockets subscribed to {len(threads)} threads on {len(servers)} servers; posting")

    schedule = [thread_id for _ in range(rounds) for thread_id in threads]
    receiving, sending = multiprocessing.get_context("fork").Pipe(duplex=False)
    poster = multiprocessing.get_context("fork").Process(
        target=_post_messages, args=(servers, member, schedule, rate, 0.2, sending), daemon=True
    )
    poster.start()
    sending.close()
    report = await asyncio.wait_for(_poster_report(receiving), timeout=timeout)
    elapsed, failure = report
    if failure is None:
        done, pending = await asyncio.wait(tasks, timeout=30)
    else:
        done, pending = set(), set(tasks)
    for task in pending:
        task.cancel()
    poster.join(timeout=10)
    if failure is not None:
        raise RuntimeError(failure)
    failures = [task.exception() for task in done if task.exception() is not None]
    if failures:
        raise failures[0]
    expected = sum(listeners[thread_id] for thread_id in schedule)
    progress(f"{len(latencies)} of {expected} deliveries arrived; {len(pending)} sockets still waiting")
    return latencies, expected, elapsed


def measure_delivery(servers: list[str], seeded: Seeded, *, sockets: int, rounds: int, rate: float) -> list[Metric]:
    """Run the sockets and the poster against `servers` (host:port each); the metrics."""
    from django.db import connections

    tokens = (_access_token(seeded.listener_id), _access_token(seeded.member_id))
    connections.close_all()  # before the fork
    latencies, expected, posts = asyncio.run(
        _deliver(servers, seeded, tokens, sockets=sockets, rounds=rounds, rate=rate)
    )
    if not latencies:
        raise RuntimeError("no message arrived")

    def metric(name, value, unit):
        return Metric(SCENARIO, name, round(value, 2), unit)

    return [
        metric("delivery_p95_ms", percentile(latencies, 0.95), "ms"),
        metric("delivery_p50_ms", median(latencies), "ms"),
        metric("delivery_max_ms", max(latencies), "ms"),
        Metric(SCENARIO, "delivered", round(len(latencies) / expected, 4), "ratio"),
        metric("post_p50_ms", median(posts), "ms"),
        metric("post_p95_ms", percentile(posts, 0.95), "ms"),
        Metric(SCENARIO, "messages_posted", len(posts), "messages"),
        Metric(SCENARIO, "sockets", sockets, "sockets"),
    ]


def run(args) -> tuple[list[Metric], list[str]]:
    seeded = _seed(threads=args.threads, messages=args.messages, partners=args.partners)
    seeded = replace(seeded, live_thread_ids=seeded.live_thread_ids[: args.live_threads])
    metrics, plans = measure_reads(seeded, requests=args.requests)

    ports = [_free_port() for _ in range(args.servers)]
    with tempfile.TemporaryFile() as log:
        servers = [_start_server(port, log) for port in ports]
        try:
            deadline = time.monotonic() + 60
            for port in ports:
                _wait_healthy(port, deadline)
            metrics += measure_delivery(
                [f"127.0.0.1:{port}" for port in ports],
                seeded,
                sockets=args.sockets,
                rounds=args.rounds,
                rate=args.rate,
            )
        except Exception:
            log.seek(0)
            progress("the servers' log ends:\n" + log.read()[-4000:].decode(errors="replace"))
            raise
        finally:
            for server in servers:
                if server.poll() is None:
                    os.killpg(server.pid, signal.SIGTERM)
            for server in servers:
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:  # sockets that never closed: no reason to wait longer
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait(timeout=5)
    live = len(seeded.live_thread_ids)
    notes = [
        f"History: GET .../threads/{{id}}/messages of a thread with {args.messages} messages, the first page of "
        f"{HISTORY_PAGE} (and the middle one by cursor); threads: GET /api/v1/chat/threads, {THREAD_PAGE} of the "
        f"member's {args.threads} threads with unread counts. Serial, in process, medians of {args.requests}.",
        f"Delivery: {args.sockets} sockets over {args.servers} ASGI processes on {live} threads; {args.rounds} "
        f"messages a thread posted by HTTP at {args.rate:g}/s; latency from just before the POST to the "
        "message.sent frame's arrival.",
        "The history's first page in SQL (EXPLAIN ANALYZE as the application role): custom plan "
        f"{plans['custom']['plan']}; generic plan {plans['generic']['plan']}.",
    ]
    return metrics, notes
