"""Settings shared by every environment. Everything that differs comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEFAULT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "apps.core.errors.csrf_failure"  # the error envelope, not an HTML page

INSTALLED_APPS = [
    # Before our apps, so that apps.accounts.admin can take django-otp's device admin away.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "apps.core",
    "apps.accounts",
    "apps.tenancy",
    "apps.kyc",
    "apps.orders",
    "apps.documents",
    "apps.marketplace",
    "apps.escrow",
    "apps.tracking",
    "apps.chat",
    "apps.notifications",
    "apps.disputes",
    "apps.webhooks",
    "apps.passports",
    "apps.service",
    "apps.points",
    "apps.reviews",
    "apps.integrations",
    "apps.tenancy.apps.ManifestAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "django_prometheus",
    "guardian",
    # Swagger UI's files served by us (/api/docs/): no CDN, so the CSP can stay 'self'.
    "drf_spectacular_sidecar",
]

# Object permissions (django-guardian, DESIGN.md §1): which warehouses a warehouse staff
# member works at. No anonymous user: every API call is authenticated, and guardian's
# anonymous user would need the email our User model logs in with.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (CONTENT_SECURITY_POLICY,
    # PERMISSIONS_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # The admin's CSS and JS, from the one ASGI process in development and production alike.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the admin requires staff to have passed TOTP.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.tenancy.middleware.TenantMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # {{ CSP_NONCE }}: the response's nonce, for the few inline <style> elements.
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL is the owner's connection: migrations and set-up only. The application
# itself connects as a separate role that is neither superuser nor BYPASSRLS, so
# PostgreSQL's row-level security applies to every query it runs. APP_DATABASE_URL
# names that role's connection explicitly (production: web and workers get only it);
# otherwise it is DATABASE_URL with the user and password of APP_DB_USER/APP_DB_PASSWORD.
APP_DB_USER = os.environ.get("APP_DB_USER", "manifest_app")
APP_DB_PASSWORD = os.environ.get("APP_DB_PASSWORD", "")


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


OWNER_DATABASE_URL = os.environ.get("DATABASE_URL", "")
APP_DATABASE_URL = os.environ.get("APP_DATABASE_URL") or (
    _with_credentials(OWNER_DATABASE_URL, APP_DB_USER, APP_DB_PASSWORD) if OWNER_DATABASE_URL else ""
)
if not APP_DATABASE_URL:
    raise RuntimeError(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start a private PostgreSQL, "
        "or export DATABASE_URL=postgresql://owner@host:5432/manifest."
    )

_POOL = {"min_size": env_int("DB_POOL_MIN", 1), "max_size": env_int("DB_POOL_MAX", 20), "timeout": 10}
# Threads one web process runs Django's (synchronous) HTTP handling on (config/asgi.py,
# docs/decisions/0007-http-server.md). Below DB_POOL_MAX, so that a request's thread
# always finds a connection without waiting on the pool.
HTTP_THREADS = env_int("HTTP_THREADS", 16)


def _prepare_threshold() -> int | None:
    """Executions of one statement on a connection before psycopg prepares it; None: never.

    Prepared statements are planned once per connection, and with row-level security
    planning is the expensive part of a short query (the policy and its helper functions
    are inlined on every plan; docs/benchmarks.md). The scope is safe with them: the
    helpers read the transaction-local settings when the statement executes, not when it
    is planned. Turn them off (DB_PREPARE_THRESHOLD=off) behind a pooler that cannot
    track them, e.g. PgBouncer in transaction mode before 1.21 or without
    max_prepared_statements.
    """
    value = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
    if value in {"", "off", "none"}:
        return None
    return int(value)


def _database(url: str, *, pool: bool, prepare_threshold: int | None = None) -> dict:
    config = dj_database_url.parse(url, conn_max_age=0)
    options = config.setdefault("OPTIONS", {})
    options["application_name"] = "manifest"
    if pool:
        options["pool"] = _POOL
    if prepare_threshold is not None:
        # psycopg prepares only with server-side parameter binding (Django's default binds
        # on the client and sends one-off query texts).
        options["server_side_binding"] = True
        options["prepare_threshold"] = prepare_threshold
    config["TEST"] = {"NAME": None}
    return config


DATABASES = {
    "default": _database(APP_DATABASE_URL, pool=env_bool("DB_POOL", True), prepare_threshold=_prepare_threshold())
}
if OWNER_DATABASE_URL:
    DATABASES["owner"] = _database(OWNER_DATABASE_URL, pool=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: cache, broker, channel layer ----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_db_url(url: str, db: int) -> str:
    """The same Redis with another logical database (tests use one per xdist worker)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def _kombu_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        db = dict(item.split("=", 1) for item in parts.query.split("&") if "=" in item).get("db", "0")
        return f"redis+socket://{parts.path}?virtual_host={db}"
    return url


REDIS_DB = env_int("REDIS_DB", 0)
REDIS_APP_URL = _redis_db_url(REDIS_URL, REDIS_DB)

CACHES = {
    "default": {
        # Django's RedisCache with one client and pool per process (apps/core/cache.py): the stock
        # backend builds them per call and, under ASGI, per request.
        "BACKEND": "apps.core.cache.ReusedClientRedisCache",
        "LOCATION": REDIS_APP_URL,
        "KEY_PREFIX": "manifest",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

# --- Live feed (WebSockets): every timeout of the path, in seconds ----------------------
# docs/architecture.md "Live feed: every timeout" says what each one guards. A socket stays
# open for as long as the client keeps it, idle or busy, across Redis restarts.
LIVE_FEED = {
    # uvicorn pings every socket this often and drops it when no pong comes back in time
    # (config/server.py): dead peers go, and proxies see traffic on idle sockets.
    "PING_INTERVAL": env_int("LIVE_FEED_PING_INTERVAL", 20),
    "PING_TIMEOUT": env_int("LIVE_FEED_PING_TIMEOUT", 20),
    # The consumer's heartbeat: a {"type": "heartbeat"} message (browsers cannot see pings)
    # and a refresh of its group memberships (they expire, and a Redis restart loses them).
    "HEARTBEAT_INTERVAL": env_int("LIVE_FEED_HEARTBEAT_INTERVAL", 30),
    # A socket opened without credentials has this long to send {"type": "authenticate"}.
    "AUTHENTICATE_TIMEOUT": env_int("LIVE_FEED_AUTHENTICATE_TIMEOUT", 10),
}
# Chat over the live feed (apps/chat/socket.py, apps/chat/presence.py), in seconds.
CHAT_LIVE = {
    # A socket's presence in a thread expires this long after its last heartbeat: longer than
    # LIVE_FEED["HEARTBEAT_INTERVAL"] (a beat may be late), short enough that a process that
    # died is noticed (the `chat-presence-sweep` beat job then tells the thread).
    "PRESENCE_EXPIRY": env_int("CHAT_PRESENCE_EXPIRY", 90),
    # At most one {"type": "user.typing"} per socket and thread this often; more are dropped.
    "TYPING_INTERVAL": env_int("CHAT_TYPING_INTERVAL", 2),
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "apps.core.channel_layer.LiveFeedChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_APP_URL,
                    # Longer than receive_block_seconds, or each blocked read times out first.
                    "socket_timeout": env_int("CHANNEL_LAYER_SOCKET_TIMEOUT", 15),
                    "socket_connect_timeout": env_int("CHANNEL_LAYER_CONNECT_TIMEOUT", 5),
                }
            ],
            "prefix": f"manifest{REDIS_DB}",
            "receive_block_seconds": env_int("CHANNEL_LAYER_RECEIVE_BLOCK", 5),
            "reconnect_max_delay": env_int("CHANNEL_LAYER_RECONNECT_MAX_DELAY", 5),
            "expiry": 60,  # an undelivered message is dropped after this long
            "group_expiry": 86400,  # a membership not refreshed for this long is dropped
        },
    }
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _kombu_url(REDIS_APP_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Publishing happens after commit, inside the request: fail fast when the broker is away
# (the outbox keeps the event; the beat safety net relays it).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "outbox-relay-safety-net": {
        "task": "apps.core.tasks.outbox_relay_pending",
        "schedule": timedelta(seconds=60),
    },
    # Webhook deliveries whose retry is due (or whose send a dead worker or a lost enqueue left).
    "webhooks-retry-due": {"task": "apps.webhooks.tasks.webhooks_retry_due", "schedule": timedelta(minutes=1)},
    # Past their deadline RFQs take no more offers; past their validity offers cannot be accepted.
    "marketplace-expire-rfqs": {
        "task": "apps.marketplace.tasks.marketplace_expire_rfqs",
        "schedule": timedelta(minutes=5),
    },
    "marketplace-expire-offers": {
        "task": "apps.marketplace.tasks.marketplace_expire_offers",
        "schedule": timedelta(minutes=15),
    },
    # Quote records past QUOTE_RECORD_RETENTION: expiry itself is by timestamp, this only frees space.
    "marketplace-delete-old-quotes": {
        "task": "apps.marketplace.tasks.marketplace_delete_old_quotes",
        "schedule": crontab(minute=20),
    },
    # Bookings the carrier left unanswered past BOOKING_CONFIRMATION_HOURS: expired, orders cancelled.
    "marketplace-expire-bookings": {
        "task": "apps.marketplace.tasks.marketplace_expire_bookings",
        "schedule": timedelta(minutes=5),
    },
    "kyc-expiry-sweep": {
        "task": "apps.kyc.tasks.kyc_expiry_sweep",
        "schedule": crontab(hour=2, minute=15),  # daily, after midnight UTC
    },
    # Previews nobody will draw: never requested, or a lost task (apps.kyc.services).
    "kyc-previews-resubmit": {"task": "apps.kyc.tasks.kyc_previews_resubmit", "schedule": timedelta(minutes=5)},
    # Files a rolled-back transaction left in storage (apps/core/stored_files.py).
    "storage-orphans-sweep": {"task": "apps.core.tasks.storage_orphans_sweep", "schedule": crontab(minute=40)},
    # Escrow: auto-release after proof of delivery, close settled ones, resubmit what a lost
    # enqueue or a dead worker left, and refresh the display-only exchange rates.
    # Notifications whose wait is over: quiet hours, digests, retries (apps/notifications).
    "notifications-send-due": {
        "task": "apps.notifications.tasks.deliveries_send_due",
        "schedule": timedelta(minutes=1),
    },
    # Platform integrations: each active shop's sync when due, and fulfilment pushes to retry.
    "integrations-sync-due": {
        "task": "apps.integrations.tasks.integrations_sync_due",
        "schedule": timedelta(minutes=1),
    },
    "integrations-status-pushes-due": {
        "task": "apps.integrations.tasks.integrations_status_pushes_due",
        "schedule": timedelta(minutes=1),
    },
    "escrow-auto-release": {"task": "apps.escrow.tasks.escrow_auto_release_due", "schedule": timedelta(minutes=10)},
    "escrow-close-settled": {"task": "apps.escrow.tasks.escrow_close_settled", "schedule": crontab(hour=3, minute=0)},
    "escrow-payments-sweep": {"task": "apps.escrow.tasks.escrow_payments_sweep", "schedule": timedelta(minutes=1)},
    "exchange-rates-refresh": {"task": "apps.escrow.tasks.exchange_rates_refresh", "schedule": crontab(minute=5)},
    # Personal data: erasures past their grace period, and export archives past their keeping.
    "personal-data-erase-due": {"task": "apps.accounts.tasks.personal_data_erase_due", "schedule": timedelta(hours=1)},
    "personal-data-exports-expire": {
        "task": "apps.accounts.tasks.personal_data_exports_expire",
        "schedule": crontab(hour=3, minute=30),
    },
    # Tracking events' monthly partitions: made TRACKING["PARTITIONS_AHEAD"] months ahead,
    # dropped past TRACKING["RETENTION_MONTHS"].
    "tracking-partitions-maintain": {
        "task": "apps.tracking.tasks.tracking_partitions_maintain",
        "schedule": crontab(hour=1, minute=10),
    },
    # Open high and critical alerts nobody acknowledged within TRACKING["ESCALATE_AFTER"].
    "tracking-escalate-alerts": {
        "task": "apps.tracking.tasks.tracking_escalate_alerts",
        "schedule": timedelta(minutes=5),
    },
    # Shipments whose assigned device sent nothing for TRACKING["NO_SIGNAL_AFTER"].
    "tracking-no-signal": {
        "task": "apps.tracking.tasks.tracking_no_signal",
        "schedule": timedelta(minutes=5),
    },
    # Shipments with a carrier's tracking number whose next poll is due: one task each.
    "tracking-poll-carriers": {
        "task": "apps.tracking.tasks.tracking_poll_carriers",
        "schedule": timedelta(minutes=1),
    },
    # Disputes: remind the awaited side before its answer is due; overdue cases go to mediation.
    "disputes-deadlines": {"task": "apps.disputes.tasks.disputes_deadlines", "schedule": timedelta(minutes=15)},
    # Evidence previews a lost task left pending (apps.disputes.services.previews).
    "disputes-previews-resubmit": {
        "task": "apps.disputes.tasks.disputes_previews_resubmit",
        "schedule": timedelta(minutes=5),
    },
    # Field service: paid memberships past their end drop to FREE (and leave RUSHING).
    "service-memberships-expire": {
        "task": "apps.service.tasks.memberships_expire",
        "schedule": timedelta(minutes=5),
    },
    # Field service: live offer rounds past their end expire and the next round goes out (a
    # task scheduled for each round's end does it sooner; this catches what it missed).
    "service-offers-expire": {"task": "apps.service.tasks.offers_expire", "schedule": timedelta(seconds=30)},
    # Chat: erase deleted messages' content past retention; delete uploads never sent.
    "chat-purge-deleted": {
        "task": "apps.chat.tasks.chat_purge_deleted",
        "schedule": crontab(minute=40, hour=3),
    },
    "chat-sweep-unsent-attachments": {
        "task": "apps.chat.tasks.chat_sweep_unsent_attachments",
        "schedule": timedelta(hours=1),
    },
    # Chat presence of sockets whose process died without saying goodbye: told offline once
    # their entries expire (CHAT_LIVE["PRESENCE_EXPIRY"]).
    "chat-presence-sweep": {"task": "apps.chat.tasks.chat_presence_sweep", "schedule": timedelta(seconds=30)},
}
OUTBOX_RELAY_STALE_AFTER = timedelta(seconds=30)

# --- Auth and API ---------------------------------------------------------------------
# Argon2 (Django's recommended hasher) for every new hash; the others still verify old hashes,
# and Django replaces such a hash with an Argon2 one when its owner next signs in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in lockout (apps/accounts/services/lockout.py): consecutive failures per account,
# failures per client IP within the window (higher: offices share an address).
LOGIN_LOCKOUT_THRESHOLD = env_int("LOGIN_LOCKOUT_THRESHOLD", 5)
LOGIN_LOCKOUT_THRESHOLD_PER_IP = env_int("LOGIN_LOCKOUT_THRESHOLD_PER_IP", 20)
LOGIN_LOCKOUT_DURATION = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
TWO_FACTOR_CHALLENGE_MAX_AGE = 300  # seconds between the password and the second factor
TWO_FACTOR_CHALLENGE_MAX_ATTEMPTS = 5  # codes tried on one challenge before it is void
OTP_TOTP_ISSUER = "Manifest"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # should django-otp's device admin ever come back
EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 3600  # seconds
PASSWORD_RESET_TIMEOUT = 3600  # seconds; Django's reset tokens also die with the password
# Instant quotes (docs/marketplace.md): how long a quoted price holds for a booking, and how
# long its record is kept at all (then the daily clean-up deletes it).
QUOTE_VALIDITY = timedelta(minutes=env_int("QUOTE_VALIDITY_MINUTES", 30))
QUOTE_RECORD_RETENTION = timedelta(days=1)
# A booking the carrier has not confirmed or declined within this time expires (its order cancelled).
BOOKING_CONFIRMATION_HOURS = env_int("BOOKING_CONFIRMATION_HOURS", 24)
# Disputes (docs/disputes.md).
DISPUTES = {
    # The counterparty's window to answer a new case (and a side's, when the mediator asks).
    "RESPONSE_WINDOW": timedelta(hours=env_int("DISPUTES_RESPONSE_WINDOW_HOURS", 72)),
    # The awaited side is reminded this long before its answer is due.
    "REMINDER_BEFORE": timedelta(hours=env_int("DISPUTES_REMINDER_BEFORE_HOURS", 24)),
    # A resolved case closes by itself this long after the decision, unless a party appealed.
    "APPEAL_WINDOW": timedelta(hours=env_int("DISPUTES_APPEAL_WINDOW_HOURS", 168)),
    "MAX_EVIDENCE_BYTES": env_int("DISPUTES_MAX_EVIDENCE_BYTES", 10 * 1024 * 1024),
    "MAX_STATEMENT_CHARACTERS": 10000,
    "DOWNLOAD_URL_MAX_AGE": 300,  # seconds a signed evidence link works
    # Evidence previews are drawn by a worker in the shared sandbox (apps/core/preview_sandbox.py)
    # within these limits; beyond them the preview is `failed`. One page 480 pixels wide: the
    # mediation page shows two columns of thumbnails, and the file is a click away.
    "PREVIEW_TIMEOUT_SECONDS": env_int("DISPUTES_PREVIEW_TIMEOUT_SECONDS", 20),
    "PREVIEW_MEMORY_BYTES": env_int("DISPUTES_PREVIEW_MEMORY_MB", 512) * 1024 * 1024,
    "PREVIEW_MAX_PAGES": 1,
    "PREVIEW_MAX_PIXELS": 8_000_000,
    "PREVIEW_MAX_WIDTH": 480,
    # A preview still pending this long after its evidence was added lost its task (the task's
    # hard limit is the timeout + 20 s): the beat job `disputes-previews-resubmit` asks again,
    # at most this many per run.
    "PREVIEW_RESUBMIT_AFTER": timedelta(minutes=10),
    "PREVIEW_RESUBMIT_BATCH": 200,
}
# Chat (docs/chat.md).
CHAT = {
    "MAX_MESSAGE_CHARACTERS": 4000,
    "MAX_ATTACHMENTS": 5,
    "MAX_ATTACHMENT_BYTES": env_int("CHAT_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024),
    # The sender may edit a message this long after sending it.
    "EDIT_WINDOW": timedelta(minutes=env_int("CHAT_EDIT_WINDOW_MINUTES", 15)),
    # A deleted message's content is kept this long for staff and disputes, then erased.
    "DELETED_RETENTION": timedelta(days=env_int("CHAT_DELETED_RETENTION_DAYS", 365)),
    # An uploaded attachment no message sent within this long is deleted.
    "UNSENT_ATTACHMENT_TTL": timedelta(hours=env_int("CHAT_UNSENT_ATTACHMENT_HOURS", 24)),
    # Until a deal exists between the two organizations, contact details in messages are masked.
    "MASK_CONTACTS_BEFORE_DEAL": env_bool("CHAT_MASK_CONTACTS_BEFORE_DEAL", True),
    "DOWNLOAD_URL_MAX_AGE": 300,  # seconds a signed attachment link works
}
# Tracking (docs/tracking.md).
TRACKING = {
    # Monthly partitions of the events table made ahead, and how long events are kept.
    "PARTITIONS_AHEAD": env_int("TRACKING_PARTITIONS_AHEAD", 3),
    "RETENTION_MONTHS": env_int("TRACKING_RETENTION_MONTHS", 24),
    # An event older than this, or dated later than now plus the skew, is refused.
    "MAX_EVENT_AGE": timedelta(days=env_int("TRACKING_MAX_EVENT_AGE_DAYS", 30)),
    "MAX_CLOCK_SKEW": timedelta(minutes=env_int("TRACKING_MAX_CLOCK_SKEW_MINUTES", 5)),
    "MAX_BATCH": 1000,
    # A ping implying more than this speed from the previous one is stored, flagged, not used.
    "MAX_PLAUSIBLE_SPEED_KMH": env_int("TRACKING_MAX_PLAUSIBLE_SPEED_KMH", 200),
    # This many consecutive pings outside the corridor raise a deviation alert.
    "DEVIATION_PINGS": env_int("TRACKING_DEVIATION_PINGS", 3),
    "CORRIDOR_WIDTH_M": env_int("TRACKING_CORRIDOR_WIDTH_M", 5000),
    # Waypoints' geofences (arrival and delivery): a circle of this radius.
    "WAYPOINT_RADIUS_M": env_int("TRACKING_WAYPOINT_RADIUS_M", 500),
    # A delay alert once the ETA passes the promised time by more than this.
    "DELAY_TOLERANCE": timedelta(minutes=env_int("TRACKING_DELAY_TOLERANCE_MINUTES", 60)),
    # The ETA's speed: the moving pings of this window before the latest position (at most
    # ETA_SPEED_PINGS of them); slower than STOP_SPEED_KMH between two pings is a stop, left
    # out. With no moving pings yet, the default speed (a truck's average on a long haul).
    "ETA_SPEED_WINDOW": timedelta(minutes=env_int("TRACKING_ETA_SPEED_WINDOW_MINUTES", 60)),
    "ETA_SPEED_PINGS": 120,
    "STOP_SPEED_KMH": 5,
    "ETA_DEFAULT_SPEED_KMH": env_int("TRACKING_ETA_DEFAULT_SPEED_KMH", 60),
    # No event for this long from an active shipment with a device: a no-signal alert.
    "NO_SIGNAL_AFTER": timedelta(minutes=env_int("TRACKING_NO_SIGNAL_MINUTES", 30)),
    # An open high or critical alert nobody acknowledged within this time escalates.
    "ESCALATE_AFTER": timedelta(minutes=env_int("TRACKING_ESCALATE_AFTER_MINUTES", 30)),
    # The live feed sends at most one location message per shipment per this many seconds.
    "LIVE_LOCATION_INTERVAL_S": 1.0,
    # Carriers' tracking APIs (apps/tracking/services/carrier_polling.py): a shipment with a
    # carrier's number is asked again this long after a good poll; after a failed one, after
    # the backoff (doubling from BASE up to MAX, with jitter) or the carrier's Retry-After
    # (never more than RETRY_AFTER_MAX). This many refusals in a row (the carrier does not know
    # the number, or refuses us) stop the polling; a carrier's outage alone never does.
    "CARRIER_POLL_INTERVAL": timedelta(minutes=env_int("TRACKING_CARRIER_POLL_INTERVAL_MINUTES", 10)),
    "CARRIER_POLL_BACKOFF_BASE": timedelta(seconds=env_int("TRACKING_CARRIER_POLL_BACKOFF_BASE_SECONDS", 60)),
    "CARRIER_POLL_BACKOFF_MAX": timedelta(minutes=env_int("TRACKING_CARRIER_POLL_BACKOFF_MAX_MINUTES", 60)),
    "CARRIER_POLL_RETRY_AFTER_MAX": timedelta(hours=6),
    "CARRIER_POLL_MAX_REFUSALS": env_int("TRACKING_CARRIER_POLL_MAX_REFUSALS", 8),
    # One poll reads at most this many pages, then leaves the rest to the next run (due at once).
    "CARRIER_POLL_MAX_PAGES": 20,
    # A poll holds its shipment this long (poll_next_at moved ahead), so beat's next run does
    # not poll it twice; a poll that died is taken up again after it.
    "CARRIER_POLL_LEASE": timedelta(minutes=5),
    # Due shipments one beat run hands out at most (oldest due first; the rest next minute).
    "CARRIER_POLL_BATCH": 500,
}
# Carriers' tracking APIs by carrier code (apps/tracking/carriers): the adapter class (BACKEND)
# and its options. "sandbox" is the local stand-in carrier `make run` starts
# (sandboxes/carrier_tracking.py); its development key only guards a process on this machine.
DEVELOPMENT_CARRIER_SANDBOX_API_KEY = "carrier-sandbox-development-api-key"
TRACKING_CARRIERS = {
    "sandbox": {
        "BACKEND": "apps.tracking.carriers.sandbox.SandboxCarrier",
        "URL": os.environ.get("CARRIER_SANDBOX_URL", "http://127.0.0.1:8011"),
        "API_KEY": os.environ.get("CARRIER_SANDBOX_API_KEY", DEVELOPMENT_CARRIER_SANDBOX_API_KEY),
        "TIMEOUT": {"CONNECT": 2, "READ": 5},  # seconds
        "PAGE_SIZE": 50,
    }
}
INVITATION_MAX_AGE = timedelta(days=env_int("INVITATION_MAX_AGE_DAYS", 7))  # then it expires
# Personal data (docs/accounts.md): how long an export's archive is kept, how long its signed
# link works, and the grace period before an asked-for erasure is carried out.
PERSONAL_DATA_EXPORT_RETENTION = timedelta(days=env_int("PERSONAL_DATA_EXPORT_RETENTION_DAYS", 7))
PERSONAL_DATA_EXPORT_URL_MAX_AGE = 300  # seconds
PERSONAL_DATA_ERASURE_GRACE = timedelta(days=env_int("PERSONAL_DATA_ERASURE_GRACE_DAYS", 14))
# Where the links in account emails point (the web front end; the API takes the tokens).
FRONTEND_URL = os.environ.get("FRONTEND_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Manifest <no-reply@manifest.local>")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Notifications (apps/notifications, docs/notifications.md).
NOTIFICATIONS = {
    # A delivery's tries before it is failed: retries wait RETRY_BASE_SECONDS * 2^(try-1), capped
    # at RETRY_MAX_SECONDS, with jitter in the upper half (about 3 hours over 8 tries).
    "MAX_ATTEMPTS": env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8),
    "RETRY_BASE_SECONDS": env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 60),
    "RETRY_MAX_SECONDS": env_int("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600),
    # How long a worker holds the deliveries it is sending before the sweep may send them again.
    "LEASE_SECONDS": env_int("NOTIFICATIONS_LEASE_SECONDS", 300),
    # The daily digest goes at this hour of the person's time zone.
    "DAILY_DIGEST_HOUR": env_int("NOTIFICATIONS_DAILY_DIGEST_HOUR", 8),
    "MESSAGE_ID_DOMAIN": os.environ.get("NOTIFICATIONS_MESSAGE_ID_DOMAIN", "manifest.local"),
    "PHONE_CODES_PER_HOUR": env_int("NOTIFICATIONS_PHONE_CODES_PER_HOUR", 5),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.tenancy.authentication.RequestUserAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.StrictJSONParser"],  # JSON_MAX_DEPTH, no NUL
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.core.openapi.ManifestAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "PAGE_SIZE": 20,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rates from RATE_LIMITS below; a view's own throttle_classes replace these.
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.ApiUserRateThrottle",
        "apps.core.throttling.ApiIpRateThrottle",
    ],
}

# Lists count at most this many rows for meta.total; beyond it the envelope says
# totalIsExact: false (apps/core/pagination.py, docs/decisions/0005-list-counts.md).
LIST_COUNT_LIMIT = env_int("LIST_COUNT_LIMIT", 10_000)

# --- Rate limits (apps/core/throttling.py, docs/rate-limits.md) --------------------------
# Fixed windows counted in Redis, shared by every process. "N/unit" or "N/Kunit" (a window
# of K units), unit s|sec|second|min|minute|hour|day. Each scope is overridable from the
# environment: RATE_LIMIT_<SCOPE>, e.g. RATE_LIMIT_LOGIN_IP=20/min.


def env_rate_limits(defaults: dict[str, str]) -> dict[str, str]:
    return {scope: os.environ.get(f"RATE_LIMIT_{scope.upper()}", rate) for scope, rate in defaults.items()}


RATE_LIMITS = env_rate_limits(
    {
        "api_user": "600/min",  # every request of a signed-in user
        "api_ip": "1200/min",  # anonymous requests per client IP
        "login_ip": "20/min",
        "login_account": "10/min",  # per email being signed in, whoever tries it
        "two_factor_challenge": "5/min",  # POST /auth/verify-2fa per sign-in challenge
        "two_factor_user": "10/min",  # POST /auth/verify-2fa per account, across its challenges
        "reset_ip": "10/hour",
        "reset_account": "5/hour",
        "quote_explain": "20/min",  # POST /pricing/quote with explain=true, per user (it judges every offering)
        "public_tracking_ip": "60/min",  # the public tracking page /t/<number>, per client IP
        "chat_message": "30/min",  # messages a user sends (REST and WebSocket alike)
        "passport_scan_ip": "120/min",  # public passport pages and GET /scan/{code}, per client IP
        "passport_service_request_ip": "10/hour",  # public service requests, per client IP
    }
)

# --- Client addresses and operations endpoints (apps/core/network.py) -----------------------
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR blocks). Empty: the
# client is the peer of the connection, whatever headers it sends. Throttles, lockout, audit
# and logs all count the address apps.core.network.client_ip derives from this.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
# /metrics and /health/detailed (what runs, versions, outages) answer only a request with
# `Authorization: Bearer <OPS_TOKEN>` or from OPS_ALLOWED_NETWORKS; elsewhere they are 404.
# /health and /ready stay open for load balancers. Production allows no network by default.
OPS_TOKEN = os.environ.get("OPS_TOKEN", "")
OPS_ALLOWED_NETWORKS = env_list("OPS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Manifest API",
    "DESCRIPTION": "Logistics platform: freight marketplace, forwarding, order management, device passports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN (CSP 'self').
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several serializers have a field called `status` with different choices.
    "ENUM_NAME_OVERRIDES": {
        "KycDocumentStatusEnum": "apps.kyc.models.DocumentStatus",
        "KycReviewDecisionEnum": "apps.kyc.api.serializers.REVIEW_DECISIONS",
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
        "OrderStatusMoveEnum": "apps.orders.api.serializers.STATUS_MOVES",
        "GeneratedDocumentStatusEnum": "apps.documents.models.GeneratedDocumentStatus",
        "ShippingDocumentTypeEnum": "apps.documents.models.DocumentType",
        "KycDocumentTypeEnum": "apps.kyc.checks.DocumentType",
        "CargoTypeEnum": "apps.marketplace.models.CargoType",
        "HazmatClassEnum": "apps.marketplace.models.HAZMAT_CLASSES",
        "RfqStatusEnum": "apps.marketplace.models.RfqStatus",
        "OfferStatusEnum": "apps.marketplace.models.OfferStatus",
        "BookingStatusEnum": "apps.marketplace.models.BookingStatus",
        "ServiceTypeEnum": "apps.marketplace.models.ServiceType",
        "OrderKindEnum": "apps.orders.models.OrderKind",
        "EscrowStatusEnum": "apps.escrow.models.EscrowStatus",
        "PaymentTransactionKindEnum": "apps.escrow.models.TransactionKind",
        "PaymentTransactionStatusEnum": "apps.escrow.models.TransactionStatus",
        "CountryEnum": "apps.core.countries.country_codes",
        "CurrencyEnum": "apps.core.money.currency_codes",
        "AlertStatusEnum": "apps.tracking.models.AlertStatus",
        "AlertSeverityEnum": "apps.tracking.models.Severity",
        "AlertTypeEnum": "apps.tracking.models.AlertType",
        "TrackedSubjectKindEnum": "apps.tracking.models.SubjectKind",
        "ChatMessageStateEnum": "apps.chat.api.serializers.MESSAGE_STATES",
        "DisputeStatusEnum": "apps.disputes.models.DisputeStatus",
        "DisputeSideEnum": "apps.disputes.models.Side",
        "DisputeResolutionKindEnum": "apps.disputes.models.ResolutionKind",
        "DisputeResolutionOutcomeEnum": "apps.disputes.models.ResolutionOutcome",
        "DisputeResolutionAnswerEnum": "apps.disputes.models.Answer",
        "RoleEnum": "apps.tenancy.roles.Role",
        "NotificationTypeEnum": "apps.notifications.api.serializers.TYPE_KEYS",
        "NotificationChannelEnum": "apps.notifications.models.Channel",
        "NotificationLanguageEnum": "apps.notifications.models.Language",
        "NotificationDigestEnum": "apps.notifications.models.Digest",
        "WebhookDeliveryStatusEnum": "apps.webhooks.models.DeliveryStatus",
        "PassportStatusEnum": "apps.passports.models.PassportStatus",
        "PassportStatusTargetEnum": "apps.passports.api.serializers.STATUS_TARGETS",
        "PassportEventKindEnum": "apps.passports.models.EventKind",
        "PassportRecordableKindEnum": "apps.passports.api.serializers.RECORDABLE_KINDS",
        "PassportAttachmentKindEnum": "apps.passports.models.AttachmentKind",
        "PassportTakeoverStatusEnum": "apps.passports.models.TakeoverStatus",
        "PassportServiceRequestStatusEnum": "apps.passports.models.ServiceRequestStatus",
        "PassportServiceRequestMoveEnum": "apps.passports.api.serializers.SERVICE_REQUEST_MOVES",
        "ServiceOrderStatusEnum": "apps.service.models.ServiceOrderStatus",
        "ServiceOrderUrgencyEnum": "apps.service.models.Urgency",
        "ExpertWorkStatusEnum": "apps.service.models.WorkStatus",
        "ExpertMembershipLevelEnum": "apps.service.models.MembershipLevel",
        "ExpertTypeEnum": "apps.service.models.ExpertType",
        "MatchStatusEnum": "apps.service.models.MatchStatus",
        "MatchStatusMoveEnum": "apps.service.api.expert_serializers.MATCH_STATUS_MOVES",
        "MatchOfferStatusEnum": "apps.service.models.OfferStatus",
        "MatchSourceTypeEnum": "apps.service.models.MatchSourceType",
        "MatchTargetTypeEnum": "apps.service.models.MatchTargetType",
        "ServiceAttachmentKindEnum": "apps.service.models.ServiceAttachmentKind",
        "ExpertSkillKeyEnum": "apps.service.api.expert_serializers.SKILL_KEY_CHOICES",
        "ExpertIndustryEnum": "apps.service.api.expert_serializers.INDUSTRY_CHOICES",
        "ReviewSubjectTypeEnum": "apps.reviews.models.SubjectType",
        "RevieweeTypeEnum": "apps.reviews.models.RevieweeType",
        "PointTransactionTypeEnum": "apps.points.models.TransactionType",
        "PointCategoryEnum": "apps.points.models.Category",
        "ReferralStatusEnum": "apps.points.models.ReferralStatus",
        "ReferralSourceEnum": "apps.points.models.ReferralSource",
        "IntegrationPlatformEnum": "apps.integrations.models.Platform",
        "IntegrationHealthEnum": "apps.integrations.models.Health",
        "SyncRunTriggerEnum": "apps.integrations.models.SyncTrigger",
        "SyncRunStatusEnum": "apps.integrations.models.SyncStatus",
        "DuplicateFlagStatusEnum": "apps.integrations.models.DuplicateStatus",
        "BillingRecordKindEnum": "apps.integrations.models.BillingKind",
        "BillingRecordStatusEnum": "apps.integrations.models.BillingStatus",
        "StatusPushStateEnum": "apps.integrations.models.PushState",
    },
}

# Request bodies: larger ones are refused with 413 before anything reads them.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1 * 1024 * 1024)
# KYC_MAX_FILE_BYTES below, plus room for the form's other fields.
MAX_UPLOAD_BODY_BYTES = env_int("MAX_UPLOAD_BODY_BYTES", 11 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# JSON bodies nested deeper are refused with 400 before parsing (apps/core/parsers.py).
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 64)

# --- KYC (apps/kyc, docs/kyc.md) -------------------------------------------------------
KYC_MAX_FILE_BYTES = env_int("KYC_MAX_FILE_BYTES", 10 * 1024 * 1024)
KYC_EXPIRY_WARNING_DAYS = 30
KYC_DOWNLOAD_URL_MAX_AGE = 300  # seconds a signed download link works
# Previews of uploaded files are drawn in a worker, in a child process within these limits
# (apps/core/preview_sandbox.py); beyond them the admin shows "preview unavailable" and the reason.
KYC_PREVIEW_TIMEOUT_SECONDS = env_int("KYC_PREVIEW_TIMEOUT_SECONDS", 20)
KYC_PREVIEW_MEMORY_BYTES = env_int("KYC_PREVIEW_MEMORY_MB", 512) * 1024 * 1024
KYC_PREVIEW_MAX_PAGES = 3  # the first pages of a PDF, stacked
KYC_PREVIEW_MAX_PIXELS = 8_000_000  # of the whole preview; pages past it are left out
KYC_PREVIEW_MAX_WIDTH = 800
# A preview still pending this long lost its task (the task's hard limit is the timeout + 20 s):
# the beat job `kyc-previews-resubmit` asks again, at most this many per run.
KYC_PREVIEW_RESUBMIT_AFTER = timedelta(minutes=10)
KYC_PREVIEW_RESUBMIT_BATCH = 200
# Stored files no row references (a rollback after the file was written) are deleted by the
# beat job `storage-orphans-sweep` once older than this: younger ones may belong to a
# transaction still running (apps.core.services.storage_orphans_sweep).
STORAGE_ORPHAN_GRACE = timedelta(hours=env_int("STORAGE_ORPHAN_GRACE_HOURS", 1))
# The documents each level needs (each level includes the one before).
KYC_LEVEL_REQUIREMENTS = {
    "basic": ["inn", "ogrn"],
    "enhanced": ["inn", "ogrn", "bank_details", "business_license"],
    "premium": ["inn", "ogrn", "bank_details", "business_license", "insurance_certificate", "passport"],
}
# Actions that need a verified organization (apps.kyc.gate.require_verified): 422 KYC_NOT_VERIFIED.
KYC_GATED_ACTIONS = env_list(
    "KYC_GATED_ACTIONS",
    [
        "offer.submit",
        "offer.accept",
        "booking.create",
        "booking.confirm",
        "listing.publish",
        "escrow.fund",
        "escrow.release",
        "feature.escrow.enable",
    ],
)

# --- Escrow and payments (apps/escrow, docs/escrow.md) --------------------------------------
ESCROW = {
    # Commission on what is released, by the supplier's plan, with a minimum fee per
    # currency (currencies not listed have none). Rounded half to even to minor units.
    "COMMISSION_RATES": {"free": "0.0500", "standard": "0.0300", "enterprise": "0.0150", "default": "0.0500"},
    "MINIMUM_FEES": {
        "EUR": "1.00",
        "USD": "1.00",
        "GBP": "1.00",
        "CHF": "1.00",
        "RUB": "100",
        "JPY": "150",
        "KWD": "0.300",
    },
    "AUTO_RELEASE_DAYS": env_int("ESCROW_AUTO_RELEASE_DAYS", 7),
    "CLOSE_AFTER_DAYS": env_int("ESCROW_CLOSE_AFTER_DAYS", 30),
    "DEFAULT_PROVIDER": os.environ.get("ESCROW_DEFAULT_PROVIDER", "sandbox"),
}
# Display-only exchange rates: where they come from (the offline default is a file in the repository).
EXCHANGE_RATES_PROVIDER = {
    "BACKEND": os.environ.get("EXCHANGE_RATES_BACKEND", "apps.escrow.rates.OfflineFileRates"),
    "PATH": os.environ.get("EXCHANGE_RATES_FILE", str(BASE_DIR / "apps" / "escrow" / "data" / "exchange_rates.json")),
}

# --- Shipping documents (apps/documents, docs/documents.md) -----------------------------
# The platform's signing certificate. Production names a key and a certificate from a real
# CA; with DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE on (not in production) a self-signed pair
# is generated into var/signing/ the first time it is needed. Never commit a private key.
DOCUMENT_SIGNING_KEY_FILE = Path(
    os.environ.get("DOCUMENT_SIGNING_KEY_FILE", BASE_DIR / "var" / "signing" / "development-key.pem")
)
DOCUMENT_SIGNING_CERT_FILE = Path(
    os.environ.get("DOCUMENT_SIGNING_CERT_FILE", BASE_DIR / "var" / "signing" / "development-cert.pem")
)
DOCUMENT_SIGNING_KEY_PASSPHRASE = os.environ.get("DOCUMENT_SIGNING_KEY_PASSPHRASE", "")
# Extra PEM files: the CA chain sent with signatures and trusted when verifying (the
# certificate itself is trusted when it is self-signed).
DOCUMENT_SIGNING_CHAIN_FILES = env_list("DOCUMENT_SIGNING_CHAIN_FILES", [])
DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE = env_bool("DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE", True)
DOCUMENT_SIGNER_NAME = os.environ.get("DOCUMENT_SIGNER_NAME", "Manifest platform")
# Where the QR code on a document leads: <base>/verify/<token>.
DOCUMENT_VERIFICATION_BASE_URL = os.environ.get("DOCUMENT_VERIFICATION_BASE_URL", FRONTEND_URL)
DOCUMENT_DOWNLOAD_URL_MAX_AGE = 300  # seconds a signed download link works
DOCUMENT_LOGO_MAX_BYTES = 512 * 1024

# --- Files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# What the demo seeder leaves for `make run`'s simulators (the demo truck's device key).
DEMO_FILES_DIR = Path(os.environ.get("DEMO_FILES_DIR", BASE_DIR / "var" / "demo"))
MEDIA_URL = "media/"

# STORAGE_BACKEND=s3 switches uploads to S3 (django-storages); the default is local disk.
if os.environ.get("STORAGE_BACKEND", "local") == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("S3_BUCKET", ""),
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("S3_SIGNED_URL_SECONDS", 300),
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: JSON lines with request id, organization and user --------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "apps.core.logs.RequestContextFilter"},
        "redact_urls": {"()": "apps.core.logs.RedactUrlSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "apps.core.logs.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context", "redact_urls"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Its DEBUG lines carry request URLs, and some platforms (Shopee, Lazada) take the shop's
        # access token in the query string: never logged, whatever the handlers do.
        "urllib3": {"level": "WARNING"},
        # uvicorn's loggers through our handler (JSON, URL secrets redacted), however uvicorn
        # was started: listing them replaces the handlers its own logging set-up gave them.
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.error": {"level": LOG_LEVEL},
        "uvicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- Security headers -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"  # seed 001 D10
# Back-office sessions (the API uses bearer tokens): signed out after 60 minutes without a
# request, each request starting the hour again; cookies never sent from another site (seed 004).
SESSION_COOKIE_AGE = 60 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
# Browser features no page of ours uses: denied to our pages and to anything they embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Content-Security-Policy (django-csp) on every response. Script: our own files only, never
# inline or eval, so injected markup cannot run code. Inline <style> elements need the response's
# nonce ({{ CSP_NONCE }}); style *attributes* stay allowed (style-src-attr): the admin and its
# widgets set them, and an attribute can neither run script nor read the page. style-src is the
# fallback for browsers without the -elem/-attr directives. img-src data: for the PNG previews
# the admin inlines and Swagger UI's icons. The checks that the pages work under it run in
# Chromium: tests/browser/ (make browser-check).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "style-src-elem": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Tenancy ----------------------------------------------------------------------------
# Called on every audited entry into the all-tenants scope (apps.core.context.system_scope).
RLS_BYPASS_AUDITOR = "apps.core.audit.audit_rls_bypass"

# --- Payment gateways (apps/escrow/gateways, docs/payment-gateway.md) --------------------
# Provider name -> its adapter class (BACKEND) and the adapter's options. "sandbox" is the
# local stand-in provider `make run` starts (sandboxes/payment_gateway.py); its development
# key and secret only guard a process on this machine. WEBHOOK_URL is where the provider is
# told to send its webhooks. Connection retries are the Celery task's, not the client's.
# Public on purpose (they are in the repository): production refuses them.
DEVELOPMENT_SANDBOX_API_KEY = "sandbox-development-api-key"
DEVELOPMENT_SANDBOX_SECRET = "sandbox-development-webhook-secret"
PAYMENT_GATEWAYS = {
    "sandbox": {
        "BACKEND": "apps.escrow.gateways.sandbox.SandboxGateway",
        "URL": os.environ.get("PAYMENT_SANDBOX_URL", "http://127.0.0.1:8010"),
        "API_KEY": os.environ.get("PAYMENT_SANDBOX_API_KEY", DEVELOPMENT_SANDBOX_API_KEY),
        "SECRET": os.environ.get("PAYMENT_SANDBOX_SECRET", DEVELOPMENT_SANDBOX_SECRET),
        "WEBHOOK_URL": os.environ.get("PAYMENT_WEBHOOK_URL", "http://127.0.0.1:8000/api/v1/payments/webhooks/sandbox"),
        "TIMEOUT": {"CONNECT": 2, "READ": 5},  # seconds
        "TOLERANCE_SECONDS": 300,  # how old a webhook's signature may be
    }
}

# --- Notification providers (apps/notifications/providers) ---
# docs/notification-providers.md. E-mail goes through EMAIL_* above (`make run` points it at
# the mail catcher, sandboxes/mail_catcher.py).
# SMS: gateway name -> its adapter class (BACKEND) and options. "sandbox" is the local stand-in
# `make run` starts (sandboxes/sms_gateway.py); its development key and secret only guard a
# process on this machine. STATUS_CALLBACK_URL is where the gateway sends delivery reports
# (the view at /api/v1/notifications/providers/sms/<gateway>/reports).
DEVELOPMENT_SMS_SANDBOX_API_KEY = "sms-sandbox-development-api-key"
DEVELOPMENT_SMS_SANDBOX_SECRET = "sms-sandbox-development-report-secret"
SMS_GATEWAYS = {
    "sandbox": {
        "BACKEND": "apps.notifications.providers.sms.sandbox.SandboxSmsGateway",
        "URL": os.environ.get("SMS_SANDBOX_URL", "http://127.0.0.1:8012"),
        "API_KEY": os.environ.get("SMS_SANDBOX_API_KEY", DEVELOPMENT_SMS_SANDBOX_API_KEY),
        "SECRET": os.environ.get("SMS_SANDBOX_SECRET", DEVELOPMENT_SMS_SANDBOX_SECRET),
        "STATUS_CALLBACK_URL": os.environ.get(
            "SMS_STATUS_CALLBACK_URL", "http://127.0.0.1:8000/api/v1/notifications/providers/sms/sandbox/reports"
        ),
        "TIMEOUT": {"CONNECT": 2, "READ": 5},  # seconds
        "TOLERANCE_SECONDS": 300,  # how old a delivery report's signature may be
    }
}
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "sandbox")
# Web push: the VAPID key pair (private: PEM, or base64url of the raw 32-byte key; public:
# base64url of the uncompressed point, what PushManager.subscribe takes as applicationServerKey).
# No key, no push: push_send raises ImproperlyConfigured. `make run` generates a pair under
# var/secrets/. ALLOW_HTTP_ENDPOINTS lets push go to http:// endpoints (the local sandbox push
# service); real push services are https only.
WEB_PUSH = {
    "VAPID_PRIVATE_KEY": os.environ.get("WEB_PUSH_VAPID_PRIVATE_KEY", ""),
    "VAPID_PUBLIC_KEY": os.environ.get("WEB_PUSH_VAPID_PUBLIC_KEY", ""),
    "SUBJECT": os.environ.get("WEB_PUSH_SUBJECT", "mailto:no-reply@manifest.local"),
    "TTL": env_int("WEB_PUSH_TTL_SECONDS", 24 * 3600),  # how long a push service holds a message
    "TIMEOUT": {"CONNECT": 2, "READ": 5},  # seconds
    "ALLOW_HTTP_ENDPOINTS": env_bool("WEB_PUSH_ALLOW_HTTP_ENDPOINTS", False),
}

# Outbound HTTP to URLs users give us (apps/core/outbound.py): private, loopback, link-local
# and other non-public addresses are refused unless this is on (development and tests, for
# local sandboxes and receivers; config/settings/production.py refuses to start with it).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", False)
OUTBOUND = {
    "CONNECT_TIMEOUT": float(os.environ.get("OUTBOUND_CONNECT_TIMEOUT", "3")),  # seconds
    "READ_TIMEOUT": float(os.environ.get("OUTBOUND_READ_TIMEOUT", "10")),  # seconds, per read
    "MAX_RESPONSE_BYTES": env_int("OUTBOUND_MAX_RESPONSE_BYTES", 64 * 1024),
}

# Outbound webhooks (docs/webhooks.md).
WEBHOOKS = {
    # Fernet keys (urlsafe base64 of 32 bytes) that encrypt the endpoints' signing secrets at
    # rest: the first encrypts, every one decrypts (add a new key first to rotate). Empty: one
    # key derived from SECRET_KEY (changing SECRET_KEY then makes the stored secrets unreadable).
    "SECRET_ENCRYPTION_KEYS": env_list("WEBHOOK_SECRET_ENCRYPTION_KEYS", []),
    # After a rotation the previous secret still signs (a second v1) this long.
    "ROTATION_OVERLAP": timedelta(hours=env_int("WEBHOOK_ROTATION_OVERLAP_HOURS", 24)),
    # Delays before each retry of a failed delivery (+0-10 % jitter); after the last, failed.
    "RETRY_SCHEDULE": [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
    ],
    # The circuit breaker: this many failed attempts in a row, the first at least this long
    # ago, disable the endpoint (webhook_endpoint.disabled tells its organization's admins).
    "DISABLE_AFTER_FAILURES": env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 10),
    "DISABLE_AFTER_SPAN": timedelta(hours=env_int("WEBHOOK_DISABLE_AFTER_HOURS", 12)),
    "CONNECT_TIMEOUT": 3.0,  # seconds
    "READ_TIMEOUT": 10.0,  # seconds
    # A claimed attempt whose worker died is due again after this long (the beat resends it).
    "SEND_LEASE": timedelta(minutes=2),
    "RESPONSE_EXCERPT_BYTES": 1024,
    "RETRY_BATCH": 1000,  # due deliveries the beat job fans out per run
}

# --- Device passports (apps/passports, docs/passports.md) -----------------------------------
PASSPORTS = {
    # What the QR codes and labels link to: https://<host>/p/<code>, or the GS1 Digital Link
    # https://<host>/01/<GTIN-14>/21/<serial>. Printed labels outlive deployments: set it to
    # the public host for good.
    "PUBLIC_BASE_URL": os.environ.get("PASSPORTS_PUBLIC_BASE_URL", FRONTEND_URL).rstrip("/"),
    "MAX_FILE_BYTES": env_int("PASSPORTS_MAX_FILE_BYTES", 10 * 1024 * 1024),
    "SERVICE_REQUEST_MAX_PHOTOS": 5,
    # The public page lists this many of the device's last public steps.
    "PUBLIC_STEPS": 5,
    # A header the edge (CDN, load balancer) sets to the client's country (e.g. CF-IPCountry):
    # the only place a scan's country comes from. Empty: scans have no country.
    "SCAN_COUNTRY_HEADER": os.environ.get("PASSPORTS_SCAN_COUNTRY_HEADER", ""),
    # A CSV import registers its rows in one request (about 10 ms a row): larger batches are
    # split by the client, so a request stays well inside a proxy's timeout.
    "IMPORT_MAX_ROWS": env_int("PASSPORTS_IMPORT_MAX_ROWS", 2000),
    "LABEL_DOWNLOAD_MAX_PASSPORTS": 500,
    "DOWNLOAD_URL_MAX_AGE": 300,  # seconds a signed attachment link works
}

# --- Field service (apps/service, docs/service.md) ------------------------------------------
SERVICE = {
    "MAX_FILE_BYTES": env_int("SERVICE_MAX_FILE_BYTES", 10 * 1024 * 1024),
    # Photos of the problem (at creation) and of the work done (at completion), each.
    "MAX_PHOTOS": 10,
    "DOWNLOAD_URL_MAX_AGE": 300,  # seconds a signed link to a certificate or an order's file works
    # Matching (apps/service/matching.py): the weight of each factor; a factor scores 0..1 and
    # counts for its weight, so the score is at most their sum and the breakdown adds up to it.
    # Membership is a tie-breaker: keep its weight below the smallest step of the others.
    "MATCHING_WEIGHTS": {
        "skill": 0.35,
        "distance": 0.25,
        "availability": 0.15,
        "rating": 0.15,
        "urgency": 0.08,
        "membership": 0.02,
    },
    # How many scored candidates a service order keeps (matching results).
    "MATCHING_KEEP": env_int("SERVICE_MATCHING_KEEP", 20),
    # At most this many candidates are scored per order (those with the exact skill first, then
    # by rating): a site in a dense area, or an order without coordinates (no area prefilter).
    "MATCHING_CANDIDATES_CAP": env_int("SERVICE_MATCHING_CANDIDATES_CAP", 2000),
    # Live offers: how many RUSHING experts each round goes to, how long a round stays open
    # before the next candidates are offered, and how many rounds before the order waits for
    # the customer to assign it.
    "OFFER_BATCH": env_int("SERVICE_OFFER_BATCH", 3),
    "OFFER_WINDOW_SECONDS": env_int("SERVICE_OFFER_WINDOW_SECONDS", 120),
    "OFFER_MAX_ROUNDS": env_int("SERVICE_OFFER_MAX_ROUNDS", 3),
}

# --- Platform integrations (apps/integrations, docs/integrations.md) ---------------------------
# Where each platform's API answers: the real hosts by default; `make run` and the tests point
# them at the local sandboxes (sandboxes/platforms). Shopify's is per shop: {shop} is the shop's
# myshopify.com domain.
INTEGRATIONS = {
    "PLATFORMS": {
        "shopify": {
            "BASE_URL": os.environ.get("SHOPIFY_API_URL", "https://{shop}"),
            "API_VERSION": "2024-07",
        },
        "shopee": {"BASE_URL": os.environ.get("SHOPEE_API_URL", "https://partner.shopeemobile.com")},
        "lazada": {
            "BASE_URL": os.environ.get("LAZADA_API_URL", "https://api.lazada.com/rest"),
            "AUTH_URL": os.environ.get("LAZADA_AUTH_URL", "https://auth.lazada.com/rest"),
        },
        "tiktok_shop": {
            "BASE_URL": os.environ.get("TIKTOK_SHOP_API_URL", "https://open-api.tiktokglobalshop.com"),
            "AUTH_URL": os.environ.get("TIKTOK_SHOP_AUTH_URL", "https://auth.tiktok-shops.com"),
        },
    },
    # Fernet keys that encrypt the shops' credentials at rest: the first encrypts, every one
    # decrypts. To rotate: put the new key first, run `manage.py integrations_rotate_credentials`,
    # then drop the old one. Empty: a key derived from SECRET_KEY.
    "CREDENTIAL_KEYS": env_list("INTEGRATIONS_CREDENTIAL_KEYS", []),
    # The public base URL the platforms call our webhooks at (Shopee signs the full URL).
    "WEBHOOK_BASE_URL": os.environ.get("INTEGRATIONS_WEBHOOK_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
    "SYNC_INTERVAL_DEFAULT": env_int("INTEGRATIONS_SYNC_INTERVAL_SECONDS", 300),
    "SYNC_INTERVAL_MIN": 60,
    # Each run reads from the last watermark minus this overlap: updates a platform indexes late
    # are read again (and, unchanged, change nothing).
    "SYNC_OVERLAP": timedelta(minutes=env_int("INTEGRATIONS_SYNC_OVERLAP_MINUTES", 10)),
    # A new shop's first run reads the orders updated this far back.
    "INITIAL_LOOKBACK": timedelta(days=env_int("INTEGRATIONS_INITIAL_LOOKBACK_DAYS", 30)),
    # One run per configuration: the lease its claim takes, renewed after every page.
    "SYNC_LEASE": timedelta(minutes=10),
    # Within a run, a 429 or 5xx is retried this many times with exponential backoff and jitter
    # (BACKOFF_BASE * 2^n, at most BACKOFF_MAX; a Retry-After up to RETRY_AFTER_MAX is obeyed).
    "REQUEST_ATTEMPTS": env_int("INTEGRATIONS_REQUEST_ATTEMPTS", 5),
    "BACKOFF_BASE_SECONDS": float(os.environ.get("INTEGRATIONS_BACKOFF_BASE_SECONDS", "1")),
    "BACKOFF_MAX_SECONDS": float(os.environ.get("INTEGRATIONS_BACKOFF_MAX_SECONDS", "30")),
    "RETRY_AFTER_MAX_SECONDS": float(os.environ.get("INTEGRATIONS_RETRY_AFTER_MAX_SECONDS", "60")),
    # After a failed run the next one waits RUN_BACKOFF_BASE * 2^(failures - 1), at most RUN_BACKOFF_MAX.
    "RUN_BACKOFF_BASE": timedelta(minutes=1),
    "RUN_BACKOFF_MAX": timedelta(hours=1),
    # The circuit breaker: this many failed runs in a row pause the shop (its admins are told);
    # after CIRCUIT_COOLDOWN one trial run is let through, and a success closes it.
    "CIRCUIT_FAILURES": env_int("INTEGRATIONS_CIRCUIT_FAILURES", 5),
    "CIRCUIT_COOLDOWN": timedelta(minutes=env_int("INTEGRATIONS_CIRCUIT_COOLDOWN_MINUTES", 30)),
    # An access token is refreshed when it expires within this margin.
    "TOKEN_REFRESH_MARGIN": timedelta(minutes=10),
    # Probable duplicates across platforms: the same customer, items and amount within this window.
    "DUPLICATE_WINDOW": timedelta(hours=env_int("INTEGRATIONS_DUPLICATE_WINDOW_HOURS", 48)),
    "MAX_RESPONSE_BYTES": 16 * 1024 * 1024,
    "WEBHOOK_MAX_BODY_BYTES": 1024 * 1024,
    # Status pushes that failed are tried again after these delays, then given up.
    "PUSH_RETRY_SCHEDULE": [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
    ],
    "DUE_BATCH": 500,  # configurations (or pushes) a beat run fans out
}

# --- Points and referrals (apps/points, docs/points.md) ---------------------------------------
POINTS = {
    # Referral links: <PUBLIC_BASE_URL>/signup?ref=<code> (the sign-up page of the front end).
    "PUBLIC_BASE_URL": os.environ.get("POINTS_PUBLIC_BASE_URL", FRONTEND_URL).rstrip("/"),
    # A person who signed up without a code may claim one within this many days.
    "REFERRAL_CLAIM_DAYS": env_int("POINTS_REFERRAL_CLAIM_DAYS", 30),
    # How far up the referral chain a loop is looked for.
    "REFERRAL_CHAIN_DEPTH": 50,
    # The active rules are cached per process group (Redis) this long; rule edits forget them.
    "RULES_CACHE_SECONDS": 60,
}
