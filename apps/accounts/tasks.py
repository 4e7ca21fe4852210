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


# --- Personal data (apps.accounts.services.personal_data) -------------------------------------


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def personal_data_export_build(export_id: str) -> str:
    from apps.accounts.services import personal_data

    return personal_data.personal_data_export_build(export_id=export_id).status


@shared_task(acks_late=True)
def personal_data_exports_expire() -> int:
    from apps.accounts.services import personal_data

    return personal_data.personal_data_exports_expire()


@shared_task(acks_late=True)
def personal_data_erase_due() -> int:
    from apps.accounts.services import personal_data

    return personal_data.erasure_carry_out_due()
