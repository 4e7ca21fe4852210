"""Celery tasks of the accounts context: thin wrappers around the mail services
(routed to the notifications queue by config/celery.py) and the personal data jobs.

All are SystemTasks: they act for a person, not for one organization. The personal data
services open the audited all-tenants scope themselves, because a person's data spans
every organization they belong to (their docstrings say so)."""

from celery import shared_task

from apps.accounts.services import mail
from apps.core.task_bases import SystemTask


@shared_task(base=SystemTask)
def send_email_verification(user_id: str, token: str) -> bool:
    return mail.mail_email_verification(user_id=user_id, token=token)


@shared_task(base=SystemTask)
def send_password_reset(email: str) -> bool:
    return mail.mail_password_reset(email=email)


@shared_task(base=SystemTask)
def send_already_registered(email: str) -> bool:
    return mail.mail_already_registered(email=email)


# --- Personal data (apps.accounts.services.personal_data) -------------------------------------


@shared_task(base=SystemTask)
def personal_data_export_build(export_id: str) -> str:
    from apps.accounts.services import personal_data

    return personal_data.personal_data_export_build(export_id=export_id).status


@shared_task(base=SystemTask)
def personal_data_exports_expire() -> int:
    from apps.accounts.services import personal_data

    return personal_data.personal_data_exports_expire()


@shared_task(base=SystemTask)
def personal_data_erase_due() -> int:
    from apps.accounts.services import personal_data

    return personal_data.erasure_carry_out_due()
