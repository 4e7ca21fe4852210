"""Celery tasks of the tenancy context: thin wrappers around its services
(the invitation e-mail goes to the notifications queue, config/celery.py)."""

from celery import shared_task

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def send_invitation(organization_id: str, invitation_id: str, token: str) -> bool:
    from apps.tenancy.services import invitation_mail  # the services module imports this one

    return invitation_mail(organization_id=organization_id, invitation_id=invitation_id, token=token)
