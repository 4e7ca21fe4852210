from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "apps.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self) -> None:
        from apps.chat.subjects import register_subject
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.disputes import demo, receivers
        from apps.disputes.chat import dispute_thread_parties

        # A case opened while nothing was held freezes the escrow funded after it.
        subscribe("escrow.funded", receivers.escrow_funded, name="disputes.escrow_funded")

        # The parties of a case talk in a chat thread about it.
        register_subject("dispute", dispute_thread_parties)
        demo_register(DemoSeeder("disputes", demo.seed))
