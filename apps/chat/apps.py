from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from apps.chat import demo, selectors, socket, subjects
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.live_groups import register_group_authorizer

        # A socket may listen to `thread.<id>` when its organization is a party of the thread.
        register_group_authorizer("thread", selectors.thread_may_listen)
        # What it may then send there (chat.typing, chat.send, ...), and presence.
        socket.register()
        subjects.register_builtin_subjects()
        demo_register(DemoSeeder("chat", demo.seed))
