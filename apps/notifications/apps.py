from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from apps.core.events import subscribe
        from apps.core.live_groups import register_group_authorizer
        from apps.core.personal_data import erasure_step_register, personal_data_section
        from apps.notifications import live, personal_data, receivers

        # Every event: the catalogue decides which ones tell anybody.
        subscribe("*", receivers.event_notify, name="notifications.event_notify")
        # A socket may listen to `user.<id>` for its own user.
        register_group_authorizer("user", live.user_may_listen)
        tracking.connect(receivers.email_tracked, dispatch_uid="notifications.email_tracked")
        personal_data_section("notifications", personal_data.notifications_of_person)
        personal_data_section("notification_preferences", personal_data.preferences_of_person)
        erasure_step_register(personal_data.person_forget)
