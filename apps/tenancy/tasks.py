"""Celery tasks of the tenancy context: thin wrappers around its services
(the invitation e-mail goes to the notifications queue, config/celery.py)."""

from celery import shared_task

from apps.core.task_bases import TenantTask


@shared_task(base=TenantTask)
def send_invitation(organization_id: str, invitation_id: str, token: str) -> bool:
    from apps.tenancy.services import invitation_mail  # the services module imports this one

    return invitation_mail(organization_id=organization_id, invitation_id=invitation_id, token=token)
