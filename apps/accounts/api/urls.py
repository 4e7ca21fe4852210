from django.urls import path

from apps.accounts.api import personal_data, views

urlpatterns = [
    path("auth/verify-email", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/verify-2fa", views.VerifyTwoFactorView.as_view(), name="auth-verify-2fa"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/sessions", views.SessionListView.as_view(), name="auth-sessions"),
    path("auth/sessions/<uuid:session_id>", views.SessionDetailView.as_view(), name="auth-session-detail"),
    path("auth/enable-2fa", views.EnableTwoFactorView.as_view(), name="auth-enable-2fa"),
    path("auth/enable-2fa/confirm", views.ConfirmTwoFactorView.as_view(), name="auth-enable-2fa-confirm"),
    path("auth/disable-2fa", views.DisableTwoFactorView.as_view(), name="auth-disable-2fa"),
    path("auth/change-password", views.ChangePasswordView.as_view(), name="auth-change-password"),
    path("auth/reset-password", views.ResetPasswordView.as_view(), name="auth-reset-password"),
    path("auth/reset-password/confirm", views.ResetPasswordConfirmView.as_view(), name="auth-reset-password-confirm"),
    path("me/export", personal_data.PersonalDataExportView.as_view(), name="me-export"),
    path("me/export/file/<str:token>", personal_data.PersonalDataExportFileView.as_view(), name="me-export-file"),
    path("me/erasure", personal_data.ErasureRequestView.as_view(), name="me-erasure"),
]
