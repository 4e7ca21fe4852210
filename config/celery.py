"""The Celery application: queues of DESIGN.md §7, settings from Django (CELERY_*)."""

import os

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("manifest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "sync", "documents", "notifications")]
app.conf.task_routes = {
    "apps.integrations.*": {"queue": "sync"},
    "apps.documents.*": {"queue": "documents"},
    "apps.kyc.tasks.kyc_document_render_preview": {"queue": "documents"},  # untrusted files, like renderers
    "apps.disputes.tasks.evidence_preview_render": {"queue": "documents"},  # the same sandbox as KYC's
    "apps.notifications.*": {"queue": "notifications"},
    "apps.webhooks.*": {"queue": "notifications"},
    "apps.accounts.tasks.send_*": {"queue": "notifications"},
    "apps.tenancy.tasks.send_*": {"queue": "notifications"},
}
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**kwargs):
    """Workers and beat log the same JSON lines as the web processes."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
