"""Routes of chat under /api/v1/chat/."""

from django.urls import path

from apps.chat.api import views

urlpatterns = [
    path("chat/threads", views.ThreadListView.as_view(), name="chat-thread-list"),
    path("chat/threads/<uuid:thread_id>", views.ThreadDetailView.as_view(), name="chat-thread-detail"),
    path("chat/threads/<uuid:thread_id>/messages", views.ThreadMessagesView.as_view(), name="chat-thread-messages"),
    path(
        "chat/threads/<uuid:thread_id>/attachments",
        views.ThreadAttachmentView.as_view(),
        name="chat-thread-attachments",
    ),
    path(
        "chat/threads/<uuid:thread_id>/participants",
        views.ThreadParticipantsView.as_view(),
        name="chat-thread-participants",
    ),
    path("chat/threads/<uuid:thread_id>/read", views.ThreadReadView.as_view(), name="chat-thread-read"),
    path("chat/messages/<uuid:message_id>", views.MessageDetailView.as_view(), name="chat-message-detail"),
    path("chat/messages/<uuid:message_id>/report", views.MessageReportView.as_view(), name="chat-message-report"),
    path("chat/attachments/<str:token>", views.AttachmentFileView.as_view(), name="chat-attachment-file"),
]
