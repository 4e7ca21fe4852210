from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "apps.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self) -> None:
        from apps.chat.subjects import register_subject
        from apps.core.demo import DemoSeeder, demo_register
        from apps.disputes import demo
        from apps.disputes.chat import dispute_thread_parties

        # The parties of a case talk in a chat thread about it.
        register_subject("dispute", dispute_thread_parties)
        demo_register(DemoSeeder("disputes", demo.seed))
