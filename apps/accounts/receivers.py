"""Auth events from Django's signals go to the audit log; receivers only delegate."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.core.audit import audit_auth_event


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_auth_event(action="auth.login", user_id=user.id, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_auth_event(action="auth.logout", user_id=user.id, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The attempted email is kept (it is what an investigator needs); never the password.
    audit_auth_event(
        action="auth.login_failed",
        user_id=None,
        request=request,
        details={"email": str(credentials.get("username") or credentials.get("email") or "")[:254]},
    )
