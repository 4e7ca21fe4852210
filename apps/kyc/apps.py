from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "apps.kyc"
    label = "kyc"
    verbose_name = "KYC: company verification"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.personal_data import personal_data_section
        from apps.kyc import demo, personal_data
        from apps.kyc.gate import feature_gate
        from apps.tenancy.features import FEATURES, feature_precondition_register

        # Switching a feature on is the KYC-gated action feature.<name>.enable (escrow's, by default).
        for name in FEATURES:
            feature_precondition_register(name, feature_gate(name))
        personal_data_section(
            "kyc_documents_uploaded",
            lambda *, user_id, email: personal_data.documents_uploaded_by_person(user_id=user_id),
        )
        demo_register(DemoSeeder("kyc", demo.seed))
