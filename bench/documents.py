# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Scenario `documents`: CMR consignment notes rendered per second in one process.

`cmr_per_s`: `apps.documents.rendering.render_document` on a realistic CMR (Russian,
five items with Cyrillic descriptions, parties with addresses and tax ids, the carrier,
places, dates, vehicle, remarks, the QR code of a verification URL), serially in this
process, after `--warmup` untimed renders (fonts registered and their subsets built,
imports done). Every document differs (its number and verification URL, so its QR
code), as a stream of real documents would; the first is checked to be a PDF with its
Cyrillic text and five items. Rounds of `--renders` are timed separately; the figure
is the median round's documents / seconds, and the best and worst rounds are printed
beside it.

`queue_1000_s`: 1,000 CMRs through the Celery queue, end to end, with a real worker
(`celery -A config worker -Q documents --concurrency 2`, prefork, config.settings.bench,
started and stopped here, its PDFs written to a temporary MEDIA_ROOT). The data: the
orders-list seed with `--queue-orders` (1,100) orders per tenant (two tenants, 1-3 items each).
The first tenant's admin asks for one CMR of each of 1,000 different orders through
`apps.documents.services.document_generate` (what POST /api/v1/documents/generate runs:
the pending version, its audit and outbox rows, the task queued on commit); the clock
runs from the first request to the moment all 1,000 versions are out of `pending`
(polled every 0.1 s as the application role). Any `failed` version stops the run. Before
the clock, a few documents go through the same path untimed, so the worker's children
have their fonts and imports loaded.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal

from bench.environment import progress
from bench.stats import Metric, median

DATABASE = "bench_documents"
ITEMS = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_arguments(parser) -> None:
    parser.add_argument("--renders", type=int, default=100, help="CMRs per timed round (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed renders first (default 20)")
    parser.add_argument("--queue-documents", type=int, default=1000, help="documents through the queue (default 1000)")
    parser.add_argument("--queue-orders", type=int, default=1100, help="orders per tenant for the queue (default 1100)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--skip-queue", action="store_true", help="measure cmr_per_s only")


def shipment(sequence: int):
    """A CMR as a Russian carrier would make it out: five items, Cyrillic names, every box filled."""
    from apps.documents.content import DocumentType, LineItem, Party, ShipmentDocument

    descriptions = [
        "Подшипник роликовый 6204-2RS",
        "Редуктор цилиндрический 5,5 кВт",
        "Кабель силовой ВВГнг-LS 3×2,5",
        "Насос центробежный КМ 80-50-200",
        "Фильтр масляный W 712/75",
    ]
    items = tuple(
        LineItem(
            sku=f"BRG-62{position:02d}-{sequence % 1000:03d}",
            description=descriptions[position - 1],
            quantity=Decimal(4 * position),
            unit="шт",
            unit_price=Decimal("1520.50") + position,
            currency="EUR",
            weight_kg=Decimal("84.5") * position,
            origin_country="DE",
            hs_code="848210000" + str(position),
            packages=position,
            packaging="паллета",
            volume_m3=Decimal("1.2"),
            marks=f"VK-{sequence:06d}-{position}",
        )
        for position in range(1, ITEMS + 1)
    )
    return ShipmentDocument(
        document_type=DocumentType.CMR,
        number=f"FR-2026-{sequence:06d}",
        issue_date=date(2026, 11, 23),
        language="ru",
        shipper=Party("Müller Maschinenbau GmbH", ("Industriestraße 12", "70565 Stuttgart"), "DE", "DE123456789"),
        consignee=Party("ООО «Волга Карго»", ("ул. Промышленная, д. 5", "Самара, 443000"), "RU", "6312345678"),
        carrier=Party("ТрансЛайн ООО", ("Москва, ул. Складочная, 1",), "RU", "7701234567"),
        items=items,
        currency="EUR",
        verification_url=f"https://manifest.example/verify/{sequence:08d}-Zm9vYmFyYmF6cXV4LXRva2Vu",
        place_of_taking_over="Штутгарт, DE",
        place_of_delivery="Самара, RU",
        taking_over_date=date(2026, 11, 23),
        delivery_date=date(2026, 11, 30),
        vehicle="А123ВС 77 / ВР 1234 77",
        remarks="Хрупкий груз, не кантовать",
        place_of_issue="Штутгарт",
        documents_attached=("Счёт-фактура № 123", "Упаковочный лист"),
        sender_instructions="Таможенное оформление в Самаре",
        carrier_reservations="",
        special_agreements="Доставка до 30.11.2026",
        terms_of_delivery="FCA Stuttgart (Incoterms 2020)",
    )


def _check(pdf: bytes) -> None:
    from pypdf import PdfReader

    if not pdf.startswith(b"%PDF-"):
        raise RuntimeError("render_document did not return a PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("ООО «Волга Карго»", "FR-2026-000000", "Подшипник роликовый"):
        if expected not in " ".join(text.split()):
            raise RuntimeError(f"the rendered CMR lacks {expected!r}")


def _start_worker(concurrency: int, media_root: str, log) -> subprocess.Popen:
    from bench.environment import SETTINGS_MODULE

    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "documents", "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "--loglevel", "warning"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "bench-documents@%h"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "MEDIA_ROOT": media_root}
    # Its own session: a Ctrl-C reaches us, and the caller's finally block stops the worker.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: the children finish their task
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _generate(order_ids, *, organization_id, user_id) -> list:
    from apps.core.actors import Actor
    from apps.core.context import tenant_scope
    from apps.documents import services

    documents = []
    for order_id in order_ids:
        with tenant_scope(organization_id, user_id=user_id):
            document = services.document_generate(
                organization_id=organization_id,
                actor=Actor(user_id=user_id, organization_id=organization_id),
                order_id=order_id,
                document_type="cmr",
            )
        documents.append(document.id)
    return documents


def _wait_rendered(document_ids, *, organization_id, worker, log_path: str, timeout: float) -> None:
    """Until none of the documents is pending; any failed one stops the run."""
    from django.db.models import Count

    from apps.core.context import tenant_scope
    from apps.documents.models import GeneratedDocument

    deadline = time.monotonic() + timeout
    while True:
        with tenant_scope(organization_id):
            counts = dict(
                GeneratedDocument.objects.filter(id__in=document_ids).values_list("status").annotate(n=Count("id"))
            )
        if counts.get("failed"):
            with tenant_scope(organization_id):
                reason = GeneratedDocument.objects.filter(id__in=document_ids, status="failed").values_list(
                    "failure_reason", flat=True
                )[0]
            raise RuntimeError(f"{counts['failed']} documents failed: {reason}")
        if not counts.get("pending"):
            return
        if worker.poll() is not None or time.monotonic() > deadline:
            with open(log_path) as log:
                raise RuntimeError(f"documents still pending ({counts}); worker log:\n{log.read()[-3000:]}")
        time.sleep(0.1)


def _queue(args) -> tuple[float, float]:
    """(seconds for `--queue-documents` CMRs end to end, seconds spent asking for them)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from apps.core.context import tenant_scope
    from apps.orders.models import Order
    from bench.orders_list import _seed

    tenants, admins = _seed(tenants=2, orders=args.queue_orders)
    tenant, admin = tenants[0], get_user_model().objects.get(pk=admins[0].pk)
    with tenant_scope(tenant.id, user_id=admin.id):
        # Its orders on either side, as the list shows them.
        order_ids = list(
            Order.objects.filter(Q(client_organization_id=tenant.id) | Q(supplier_organization_id=tenant.id))
            .order_by("-created_at")
            .values_list("id", flat=True)
        )
    warmup_ids, timed_ids = order_ids[: 2 * args.worker_concurrency], order_ids[2 * args.worker_concurrency :]
    if len(timed_ids) < args.queue_documents:
        raise RuntimeError(f"{len(timed_ids)} orders for {args.queue_documents} documents: raise --queue-orders")
    timed_ids = timed_ids[: args.queue_documents]

    from config.celery import app

    # Messages a stopped run left in the benchmark's Redis database would be rendered first.
    app.control.purge()
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        log_path = f"{scratch}/worker.log"
        with open(log_path, "w") as log:
            worker = _start_worker(args.worker_concurrency, f"{scratch}/media", log)
            try:
                warmup = _generate(warmup_ids, organization_id=tenant.id, user_id=admin.id)
                _wait_rendered(warmup, organization_id=tenant.id, worker=worker, log_path=log_path, timeout=120)
                progress(f"worker up ({args.worker_concurrency} processes); {len(warmup)} documents rendered untimed")
                started = time.perf_counter()
                documents = _generate(timed_ids, organization_id=tenant.id, user_id=admin.id)
                asked = time.perf_counter() - started
                _wait_rendered(documents, organization_id=tenant.id, worker=worker, log_path=log_path, timeout=900)
                elapsed = time.perf_counter() - started
            finally:
                _stop_worker(worker)
    progress(f"{len(documents)} documents through the queue in {elapsed:.1f}s (asked for in {asked:.1f}s)")
    return elapsed, asked


def run(args) -> tuple[list[Metric], list[str]]:
    from apps.documents.rendering import render_document

    first = render_document(shipment(0))
    _check(first)
    for sequence in range(1, args.warmup + 1):
        render_document(shipment(sequence))
    progress(f"warm-up: {args.warmup} renders; timing {args.rounds} rounds of {args.renders}")

    rates, sizes = [], []
    sequence = args.warmup
    for round_number in range(args.rounds):
        documents = [shipment(sequence + n + 1) for n in range(args.renders)]  # built outside the clock
        sequence += args.renders
        started = time.perf_counter()
        for document in documents:
            sizes.append(len(render_document(document)))
        elapsed = time.perf_counter() - started
        rates.append(args.renders / elapsed)
        progress(f"round {round_number + 1}/{args.rounds}: {rates[-1]:.1f} CMR/s")

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("documents", name, round(value, 3), unit)

    queue_metrics = []
    if not args.skip_queue:
        queue_seconds, asked_seconds = _queue(args)
        queue_metrics = [
            metric(f"queue_{args.queue_documents}_s", queue_seconds, "s"),
            metric("queue_documents_per_s", args.queue_documents / queue_seconds, "documents/s"),
            metric("queue_request_s", asked_seconds, "s"),
            metric("queue_worker_concurrency", args.worker_concurrency, "processes"),
        ]

    metrics = [
        metric("cmr_per_s", median(rates), "documents/s"),
        metric("cmr_per_s_best_round", max(rates), "documents/s"),
        metric("cmr_per_s_worst_round", min(rates), "documents/s"),
        metric("cmr_ms_median", 1000 / median(rates), "ms"),
        metric("cmr_pdf_bytes", median(sizes), "bytes"),
        *queue_metrics,
    ]
    notes = [
        f"render_document on a Russian CMR with {ITEMS} items, serially in one process, after {args.warmup} "
        f"warm-up renders; {args.rounds} rounds of {args.renders}; cmr_per_s is the median round.",
        f"queue_{args.queue_documents}_s: CMRs of different orders asked for with document_generate, rendered by a "
        f"celery worker of {args.worker_concurrency} processes; from the first request to the last one out of pending.",
    ]
    return metrics, notes
