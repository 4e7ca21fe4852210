from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from apps.core.events import subscribe
        from apps.core.live_groups import register_group_authorizer
        from apps.notifications import live, receivers

        # Every event: the catalogue decides which ones tell anybody.
        subscribe("*", receivers.event_notify, name="notifications.event_notify")
        # A socket may listen to `user.<id>` for its own user.
        register_group_authorizer("user", live.user_may_listen)
        tracking.connect(receivers.email_tracked, dispatch_uid="notifications.email_tracked")
