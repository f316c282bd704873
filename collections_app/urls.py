"""URLs of the officer's caseload."""

from django.urls import path

from collections_app import views

app_name = "collections"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<int:account_id>/", views.account_detail, name="account_detail"),
    path("<int:account_id>/reveal/", views.reveal, name="reveal"),
    path("<int:account_id>/interactions/new/", views.interaction_new, name="interaction_new"),
    path("<int:account_id>/promises/new/", views.promise_new, name="promise_new"),
    path("<int:account_id>/flags/new/", views.flag_new, name="flag_new"),
    path("<int:account_id>/communication/", views.communication_request, name="communication_request"),
    path("<int:account_id>/flags/<int:flag_id>/close/", views.flag_close_view, name="flag_close"),
    path("<int:account_id>/borrower-flags/new/", views.borrower_flag_new, name="borrower_flag_new"),
    path(
        "<int:account_id>/borrower-flags/<int:flag_id>/clear/",
        views.borrower_flag_clear_view,
        name="borrower_flag_clear",
    ),
    path("<int:account_id>/call-tasks/<int:task_id>/close/", views.call_task_close_view, name="call_task_close"),
    path("<int:account_id>/replies/<int:reply_id>/read/", views.inbound_reply_read, name="inbound_reply_read"),
]
