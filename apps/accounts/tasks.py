"""Celery tasks of the accounts context: thin wrappers around the mail services
(routed to the notifications queue by config/celery.py)."""

from celery import shared_task

from apps.accounts.services import mail

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def send_email_verification(user_id: str, token: str) -> bool:
    return mail.mail_email_verification(user_id=user_id, token=token)


@shared_task(**RETRY)
def send_password_reset(email: str) -> bool:
    return mail.mail_password_reset(email=email)


@shared_task(**RETRY)
def send_already_registered(email: str) -> bool:
    return mail.mail_already_registered(email=email)
