from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "apps.kyc"
    label = "kyc"
    verbose_name = "KYC: company verification"
