"""Local development (`make run`): debug on, everything else as in base."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)

# Static files straight from the apps' folders: no collectstatic while developing.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Webhooks and other outbound calls may reach local sandboxes and receivers (never in production).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", True)

# Account emails (verification, password reset) are printed by the Celery worker.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
