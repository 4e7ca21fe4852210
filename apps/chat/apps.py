from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from apps.chat import selectors, socket, subjects
        from apps.core.live_groups import register_group_authorizer

        # A socket may listen to `thread.<id>` when its organization is a party of the thread.
        register_group_authorizer("thread", selectors.thread_may_listen)
        # What it may then send there (chat.typing, chat.send, ...), and presence.
        socket.register()
        subjects.register_builtin_subjects()
