"""Adapters to the providers that carry notifications out of the platform.

sms    an SMS gateway by name (`sms_gateway()`), from settings.SMS_GATEWAYS
push   web push with VAPID (`push_send()`, `vapid_public_key()`), from settings.WEB_PUSH

E-mail needs no adapter here: it goes through Django's e-mail backend (SMTP, or a provider
through django-anymail). docs/notification-providers.md has the contracts.
"""
