"""Scenario `notifications`: events per second from the outbox to stored in-app notifications
and e-mail through the mail catcher.

The data: one organization with `--recipients` (50) active members holding the `shipper` role
(one of the order types' OPERATIONS roles), each with an e-mail address of their own, half of
them reading Russian (two languages to render per event); and one `warehouse_staff` member who
changes the orders (the actor: not told, as the catalogue says).

What is measured: `--events` (10,000) `order.status_changed` events
(apps.orders.events.OrderStatusChanged, `party_organization_ids` = the organization) published
with `outbox_publish` in the organization's tenant scope as the actor, `--batch` (100) per
transaction, as many requests would; each commit enqueues one `outbox_relay` task per event.
`--workers` (2) Celery workers (`celery -A config worker -Q default,notifications --pool
prefork --concurrency 1`, config.settings.bench) do the rest as in production: the relay runs
every consumer of the event (the notifications fan-out writes 50 Notification and 50 e-mail
Delivery rows and the fanned-out mark, then on commit pushes each person's live feed and
enqueues one `deliveries_send` task of 50 e-mails), and the send task claims, sends them over
one SMTP connection to the mail catcher and records them. The events' orders are platform
orders of the self-purchase kind, to `in_transit`: the other consumers of the event (tracking,
escrow, marketplace) have nothing to do for them, the live feed's broadcast runs as usual. (Not
platform orders: their moves other than a cancellation are not told.)

The mail catcher is sandboxes/mail_catcher.py's, started with `start_catcher` in a process of
its own (its CPU is its own and is reported): every message goes through its SMTP server, its
parser and its store. Its store keeps only the last 1,000 messages; a wrapper around the
store's `add` counts every message by its X-Manifest-Notification header as it is kept.

The clock: from the first event's relay (the earliest start of an `outbox_relay` task of the
timed events, as the worker saw it) to the later of the last e-mail accepted by the catcher and
the last delivery recorded `sent`. Workers report each task's start and duration through Celery
signals (this module is their entry point); `fan_out_ms_per_event` is the median
`outbox_relay` task of one event: every consumer, the commit and the enqueue of its e-mails.
Before the clock, `--warmup-events` go through untimed (imports, connections, prepared
statements).

Then every timed event is relayed a second time through the workers (`published_at` cleared
on the owner's connection, `outbox_relay` enqueued again), as at-least-once delivery may:
`duplicates` counts the (event, person) pairs with more than one notification, the extra
e-mails the catcher received for one notification, and what the second relay added
(notifications, deliveries, e-mails); it must be 0. Every notification must have reached the
catcher exactly once, and the messages kept are checked against their recipient.

Broker: the workers and this process use their own Redis database (`--broker-db`, 14), so that
another benchmark's workers on the bench database (15) cannot take these tasks.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_notifications"
SCENARIO = "notifications"
ROOT = Path(__file__).resolve().parent.parent
QUEUES = ("default", "notifications")
RELAY_TASK = "apps.core.tasks.outbox_relay"
SEND_TASK = "apps.notifications.tasks.deliveries_send"
NOTIFICATION_HEADER = "X-Manifest-Notification"
KEPT_MESSAGES = 1000
DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed", "bounced")
RELAY_CHUNK = 100  # events per outbox_relay task of the second relay (the relay takes 200 at most)


def add_arguments(parser) -> None:
    parser.add_argument("--events", type=int, default=10_000, help="order.status_changed events (default 10000)")
    parser.add_argument("--recipients", type=int, default=50, help="members told of each event (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker (default 1)")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo"], help="worker pool (default prefork)")
    parser.add_argument("--batch", type=int, default=100, help="events published per transaction (default 100)")
    parser.add_argument("--warmup-events", type=int, default=4, help="untimed events first (default 4)")
    parser.add_argument("--stall-seconds", type=float, default=120.0, help="give up after this long without progress")
    parser.add_argument("--broker-db", type=int, default=14, help="the Redis database of the broker (default 14)")


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    organization_id: uuid.UUID
    actor_id: uuid.UUID
    recipient_emails: dict[uuid.UUID, str]


def _seed(recipients: int) -> Seeded:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    user_model = get_user_model()
    now = timezone.now()
    unusable = make_password(None)
    organization = Organization(name="Baltic Shippers (bench)", slug="bench-notifications", country="DE")
    actor = user_model(email="dispatch@notifications.bench", first_name="Olga", password=unusable)
    people = [
        user_model(
            email=f"shipper{n:04d}@notifications.bench",
            first_name=f"Shipper {n:04d}",
            language="ru" if n % 2 else "en",
            timezone="Europe/Moscow" if n % 2 else "Europe/Berlin",
            password=unusable,
        )
        for n in range(recipients)
    ]
    memberships = [Membership(organization=organization, user=actor, role=Role.WAREHOUSE_STAFF, joined_at=now)]
    memberships += [
        Membership(organization=organization, user=user, role=Role.SHIPPER, joined_at=now) for user in people
    ]
    # The owner's connection in the bypass scope: an external owner that is not a superuser is
    # subject to the forced policies too.
    with system_scope(reason="bench notifications seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([organization])
        user_model.objects.using("owner").bulk_create([actor, *people])
        Membership.objects.using("owner").bulk_create(memberships)
    return Seeded(organization.id, actor.id, {user.id: user.email for user in people})


def _publish(seeded: Seeded, *, first: int, count: int, batch: int) -> list[uuid.UUID]:
    """`count` order status changes, `batch` per transaction; their outbox event ids."""
    from apps.core.context import tenant_scope
    from apps.core.services import outbox_publish
    from apps.orders.events import OrderStatusChanged

    event_ids = []
    for start in range(first, first + count, batch):
        with tenant_scope(seeded.organization_id, user_id=seeded.actor_id):
            for sequence in range(start, min(start + batch, first + count)):
                row = outbox_publish(
                    OrderStatusChanged(
                        organization_id=seeded.organization_id,
                        order_id=str(uuid.UUID(int=sequence + 1)),
                        number=f"SP-2026-{sequence + 1:06d}",
                        kind="self_purchase",
                        party_organization_ids=[str(seeded.organization_id)],
                        from_status="confirmed",
                        to_status="in_transit",
                        note="",
                    )
                )
                event_ids.append(row.id)
    return event_ids


# --- the mail catcher, in a process of its own ------------------------------------------------------


def _catcher_serve(pipe) -> None:
    """Run the catcher and answer the benchmark's questions over `pipe` until told to stop."""
    import resource

    from sandboxes.mail_catcher import start_catcher

    catcher = start_catcher(max_messages=KEPT_MESSAGES)
    lock = threading.Lock()
    counts: Counter[str] = Counter()
    tally = {"received": 0, "extra": 0, "last_at": 0.0}
    keep = catcher.store.add

    def add(**message):
        kept = keep(**message)
        with lock:
            notification_id = kept["headers"].get(NOTIFICATION_HEADER, "")
            counts[notification_id] += 1
            tally["received"] += 1
            tally["extra"] += counts[notification_id] > 1
            tally["last_at"] = time.time()
        return kept

    catcher.store.add = add  # the catcher's handler calls its store's add: every message counted
    pipe.send({"host": catcher.smtp_host, "port": catcher.smtp_port})
    while True:
        question = pipe.recv()
        if question == "tally":
            with lock:
                pipe.send(dict(tally))
        elif question == "counts":
            with lock:
                pipe.send(dict(counts))
        elif question == "kept":
            pipe.send([(m["headers"].get(NOTIFICATION_HEADER, ""), m["to"], m["subject"]) for m in catcher.messages()])
        elif question == "stop":
            catcher.stop()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            pipe.send({"cpu_s": usage.ru_utime + usage.ru_stime})
            return


class Catcher:
    def __init__(self):
        context = multiprocessing.get_context("spawn")  # no copy of our connections or threads
        self._pipe, theirs = context.Pipe()
        self.process = context.Process(target=_catcher_serve, args=(theirs,), name="mail-catcher", daemon=True)
        self.process.start()
        if not self._pipe.poll(30):
            raise RuntimeError("the mail catcher did not start")
        address = self._pipe.recv()
        self.host, self.port = address["host"], address["port"]
        self.cpu_s = 0.0

    def ask(self, question: str):
        self._pipe.send(question)
        return self._pipe.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.cpu_s = self.ask("stop")["cpu_s"]
            self.process.join(10)


# --- the workers ----------------------------------------------------------------------------------


def _worker_main(timings_dir: str, argv: list[str]) -> None:
    """A Celery worker that writes each task's start, duration and size to `timings_dir`."""
    from celery.signals import task_postrun, task_prerun

    from config.celery import app

    begun: dict[str, tuple[float, float]] = {}
    files = {}

    def before(task_id=None, **_):
        begun[task_id] = (time.time(), time.perf_counter())

    def after(task_id=None, task=None, kwargs=None, retval=None, **_):
        started = begun.pop(task_id, None)
        if started is None:
            return
        pid = os.getpid()  # each pool process (forked after this) writes its own file
        if pid not in files:
            files[pid] = open(f"{timings_dir}/timings-{pid}.tsv", "a", buffering=1)  # noqa: SIM115
        kwargs = kwargs or {}
        size = len(kwargs.get("items") or kwargs.get("event_ids") or ())
        elapsed = time.perf_counter() - started[1]
        files[pid].write(f"{task.name}\t{started[0]:.6f}\t{elapsed:.6f}\t{size}\t{json.dumps(retval)}\n")

    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)
    app.worker_main(["worker", *argv])


def _start_workers(args, *, scratch: str, env: dict) -> list[subprocess.Popen]:
    workers = []
    for number in range(args.workers):
        command = [sys.executable, "-m", "bench.notifications", scratch, "-Q", ",".join(QUEUES)]
        command += ["--pool", args.pool, "--concurrency", str(args.concurrency), "--loglevel", "warning"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["--hostname", f"bench-notifications-{number}@%h"]
        log = open(f"{scratch}/worker-{number}.log", "w")  # noqa: SIM115 - closed with the scratch dir
        # Its own session: a Ctrl-C reaches us, and the caller's finally block stops the worker.
        workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True))
    return workers


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)  # warm shutdown: the children finish their task
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _workers_cpu_s(workers: list[subprocess.Popen]) -> float:
    import psutil

    total = 0.0
    for worker in workers:
        try:
            parent = psutil.Process(worker.pid)
            for process in [parent, *parent.children(recursive=True)]:
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _timings(scratch: str) -> list[tuple[str, float, float, int, object]]:
    rows = []
    for path in Path(scratch).glob("timings-*.tsv"):
        for line in path.read_text().splitlines():
            name, started, elapsed, size, retval = line.split("\t")
            rows.append((name, float(started), float(elapsed), int(size), json.loads(retval)))
    return rows


def _broker_url(db: int) -> str:
    from django.conf import settings

    from config.settings.base import _kombu_url, _redis_db_url

    return _kombu_url(_redis_db_url(settings.REDIS_URL, db))


def _queued() -> int:
    from amqp.exceptions import ChannelError

    from config.celery import app

    waiting = 0
    with app.connection_for_read() as connection:
        for queue in QUEUES:
            try:
                waiting += connection.default_channel.queue_declare(queue, passive=True).message_count
            except ChannelError:  # Redis drops an emptied queue's key: nothing waits there
                continue
    return waiting


# --- waiting and counting -------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    """Notifications, deliveries by status and events not relayed, across people (the owner)."""
    from django.db.models import Count

    from apps.core.context import system_scope
    from apps.core.models import OutboxEvent
    from apps.notifications.models import Delivery, Notification

    with system_scope(reason="bench notifications: progress", using="owner", audit=False):
        counts = dict(Delivery.objects.using("owner").values_list("status").annotate(n=Count("id")).order_by())
        counts["notifications"] = Notification.objects.using("owner").count()
        counts["unpublished"] = OutboxEvent.objects.using("owner").filter(published_at__isnull=True).count()
        counts["relay_errors"] = OutboxEvent.objects.using("owner").exclude(last_error="").count()
    return counts


def _wait_all_sent(catcher: Catcher, workers, *, expected: int, stall_seconds: float, scratch: str) -> dict:
    """Until the catcher holds `expected` e-mails and as many deliveries are recorded sent."""
    last_progress, seen, last_report = time.monotonic(), (-1, -1), 0.0
    while True:
        tally = catcher.ask("tally")
        counts = _counts() if tally["received"] >= expected or time.monotonic() - last_report > 10 else None
        if counts is not None:
            if counts.get("failed") or counts.get("bounced") or counts["relay_errors"]:
                raise RuntimeError(f"deliveries failed or relays erred: {counts}\n{_logs(scratch)}")
            if tally["received"] >= expected and counts.get("sent", 0) >= expected:
                return counts
            last_report = time.monotonic()
            progress(f"  {tally['received']} e-mails caught, deliveries {counts}")
            state = (tally["received"], counts.get("sent", 0))
            if state != seen:
                seen, last_progress = state, time.monotonic()
        if time.monotonic() - last_progress > stall_seconds:
            raise RuntimeError(f"no progress for {stall_seconds:.0f}s: {tally}, {counts}\n{_logs(scratch)}")
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError(f"a worker stopped\n{_logs(scratch)}")
        time.sleep(0.5 if tally["received"] < expected else 0.1)


def _logs(scratch: str) -> str:
    return "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}" for path in sorted(Path(scratch).glob("*.log")))


def _last_sent_at() -> float:
    from django.db.models import Max

    from apps.core.context import system_scope
    from apps.notifications.models import Delivery

    with system_scope(reason="bench notifications: last sent", using="owner", audit=False):
        return Delivery.objects.using("owner").aggregate(last=Max("sent_at"))["last"].timestamp()


def _relay_again(organization_id: uuid.UUID, event_ids: list[uuid.UUID]) -> None:
    """Clear the events' relayed mark and enqueue their relay again, as a redelivery would."""
    from apps.core.context import system_scope
    from apps.core.models import OutboxEvent
    from apps.core.tasks import outbox_relay

    with system_scope(reason="bench notifications: relay again", using="owner", audit=False):
        for start in range(0, len(event_ids), 1000):
            OutboxEvent.objects.using("owner").filter(id__in=event_ids[start : start + 1000]).update(published_at=None)
    for start in range(0, len(event_ids), RELAY_CHUNK):
        chunk = [str(event_id) for event_id in event_ids[start : start + RELAY_CHUNK]]
        outbox_relay.delay(organization_id=str(organization_id), event_ids=chunk)


def _wait_relayed_and_idle(workers, *, stall_seconds: float, scratch: str) -> None:
    deadline = time.monotonic() + stall_seconds
    while _counts()["unpublished"] or _queued():
        if time.monotonic() > deadline or any(worker.poll() is not None for worker in workers):
            raise RuntimeError(f"the second relay did not finish: {_counts()}\n{_logs(scratch)}")
        time.sleep(0.5)
    time.sleep(2)  # a send task taken from the queue just before it emptied


def _notification_pairs() -> tuple[int, dict[str, str]]:
    """(event, person) pairs told more than once, and each notification's recipient address."""
    from django.db.models import Count

    from apps.accounts.models import User
    from apps.core.context import system_scope
    from apps.notifications.models import Notification

    with system_scope(reason="bench notifications: duplicates", using="owner", audit=False):
        told_twice = (
            Notification.objects.using("owner")
            .values("event_id", "user_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        emails = dict(User.objects.using("owner").values_list("id", "email"))
        recipients = {
            str(notification_id): emails[user_id]
            for notification_id, user_id in Notification.objects.using("owner").values_list("id", "user_id")
        }
    return told_twice, recipients


# --- the scenario ---------------------------------------------------------------------------------


def run(args) -> tuple[list[Metric], list[str]]:
    import psutil

    from config.celery import app

    broker = os.environ.get("CELERY_BROKER_URL") or _broker_url(args.broker_db)
    app.conf.broker_url = broker  # before this process publishes anything
    started = time.monotonic()
    seeded = _seed(args.recipients)
    progress(f"seeded one organization, {args.recipients} recipients in {time.monotonic() - started:.1f}s")
    app.control.purge()  # messages a stopped run left behind would be relayed first

    catcher = Catcher()
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": catcher.host,
        "EMAIL_PORT": str(catcher.port),
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": "false",
    }
    per_event = args.recipients
    with tempfile.TemporaryDirectory(prefix="manifest-bench-notifications-") as scratch:
        workers = _start_workers(args, scratch=scratch, env=env)
        try:
            _publish(seeded, first=0, count=args.warmup_events, batch=args.batch)
            _wait_all_sent(
                catcher, workers, expected=args.warmup_events * per_event, stall_seconds=120, scratch=scratch
            )
            warm = _counts()
            progress(
                f"workers up ({args.workers}, {args.pool} {args.concurrency}); {args.warmup_events} events untimed"
            )

            cpu_before, workers_cpu_before = psutil.cpu_times(), _workers_cpu_s(workers)
            publish_started = time.time()
            event_ids = _publish(seeded, first=args.warmup_events, count=args.events, batch=args.batch)
            published = time.time()
            progress(f"{args.events} events published in {published - publish_started:.1f}s")
            expected = (args.warmup_events + args.events) * per_event
            done = _wait_all_sent(
                catcher, workers, expected=expected, stall_seconds=args.stall_seconds, scratch=scratch
            )
            tally = catcher.ask("tally")
            ended = max(tally["last_at"], _last_sent_at())
            cpu_after, workers_cpu = psutil.cpu_times(), _workers_cpu_s(workers) - workers_cpu_before
            timed = [row for row in _timings(scratch) if row[1] >= publish_started]
            first_relay = min(row[1] for row in timed if row[0] == RELAY_TASK)
            span = ended - first_relay
            progress(f"all {expected} e-mails caught and recorded sent; {span:.1f}s from the first relay")

            progress("relaying every timed event a second time")
            relay_again_started = time.time()
            _relay_again(seeded.organization_id, event_ids)
            _wait_relayed_and_idle(workers, stall_seconds=max(args.stall_seconds, 600), scratch=scratch)
            second_relay_s = time.time() - relay_again_started
            after = _counts()
            after_tally = catcher.ask("tally")
            second_sends = sum(1 for row in _timings(scratch) if row[0] == SEND_TASK and row[1] >= relay_again_started)
            mail_counts = catcher.ask("counts")
            kept = catcher.ask("kept")
        finally:
            _stop_workers(workers)
            catcher.stop()
        app.control.purge()

    told_twice, recipients = _notification_pairs()
    missing = set(recipients) - set(mail_counts)
    strangers = set(mail_counts) - set(recipients)
    misaddressed = sum(1 for notification_id, to, _ in kept if to != [recipients.get(notification_id)])
    if missing or strangers or misaddressed:
        raise RuntimeError(
            f"{len(missing)} notifications without an e-mail, {len(strangers)} e-mails of no notification, "
            f"{misaddressed} of the {len(kept)} kept e-mails to the wrong person"
        )
    notifications = done["notifications"] - warm["notifications"]
    emails = tally["received"] - args.warmup_events * per_event
    if notifications != args.events * per_event or done.get("sent") != expected:
        raise RuntimeError(f"{notifications} notifications for {args.events} x {per_event}: {done}")
    deliveries_before = sum(done.get(status, 0) for status in DELIVERY_STATUSES)
    deliveries_after = sum(after.get(status, 0) for status in DELIVERY_STATUSES)
    added_by_second_relay = (after["notifications"] - done["notifications"]) + (deliveries_after - deliveries_before)
    # An e-mail the second relay caused could only repeat a notification: it shows as an extra.
    duplicates = told_twice + after_tally["extra"] + added_by_second_relay
    if duplicates:
        progress(
            f"DUPLICATES: {told_twice} (event, person) pairs told twice, {after_tally['extra']} extra e-mails, "
            f"{added_by_second_relay} rows added by the second relay"
        )

    relays = [row[2] for row in timed if row[0] == RELAY_TASK and row[1] < relay_again_started]
    sends = [row for row in timed if row[0] == SEND_TASK and row[1] < relay_again_started]
    busy = _busy_cpus(cpu_before, cpu_after, span)

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric(SCENARIO, name, round(value, 3), unit)

    metrics = [
        metric("events_per_s", args.events / span, "events/s"),
        metric("notifications_per_s", notifications / span, "notifications/s"),
        metric("emails_per_s", emails / span, "e-mails/s"),
        metric("duplicates", duplicates, "count"),
        metric("fan_out_ms_per_event", 1000 * median(relays), "ms"),
        metric("fan_out_ms_per_event_p95", 1000 * percentile(relays, 0.95), "ms"),
        metric("send_ms_per_email", 1000 * sum(r[2] for r in sends) / sum(r[3] for r in sends), "ms"),
        metric("total_s", span, "s"),
        metric("publish_s", published - publish_started, "s"),
        metric("notifications", notifications, "count"),
        metric("emails", emails, "count"),
        metric("second_relay_s", second_relay_s, "s"),
        metric("second_relay_send_tasks", second_sends, "count"),
        metric("catcher_cpu_s", catcher.cpu_s, "s"),
        metric("workers_cpu_s", workers_cpu, "s"),
        metric("machine_busy_cpus", busy, "cpus"),
        metric("workers", args.workers, "processes"),
        metric("worker_concurrency", args.concurrency, "processes"),
    ]
    notes = [
        f"{args.events} order.status_changed events to {per_event} members each, published {args.batch} per "
        f"transaction; {args.workers} Celery workers ({args.pool}, concurrency {args.concurrency}) on the default "
        "and notifications queues relay, fan out and send over SMTP to the mail catcher (its own process).",
        "total_s runs from the first timed relay to the later of the last e-mail caught and the last delivery "
        "recorded sent; fan_out_ms_per_event is the median outbox_relay task of one event.",
        f"catcher_cpu_s covers the whole run (warm-up and second relay included), workers_cpu_s the timed span; "
        f"the machine's {psutil.cpu_count()} CPUs were {busy:.2f} busy on average over the span.",
        "duplicates: (event, person) pairs told twice, e-mails caught twice for one notification, and anything "
        "the second relay of every event added.",
    ]
    return metrics, notes


def _busy_cpus(before, after, span: float) -> float:
    """CPUs busy on average between two psutil.cpu_times() readings."""
    import psutil

    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    total = sum(after) - sum(before)
    return (1 - idle / total) * psutil.cpu_count() if total and span else 0.0


if __name__ == "__main__":
    # `python -m bench.notifications <timings dir> <celery worker options>`: the scenario's worker.
    _worker_main(sys.argv[1], sys.argv[2:])
