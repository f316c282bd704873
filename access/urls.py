"""Access changes: /access/changes/ (CONTRACT.md, second round)."""

from django.urls import path

from access import change_views

app_name = "access"

urlpatterns = [
    path("changes/", change_views.changes, name="changes"),
    path("changes/new/", change_views.change_new, name="change_new"),
    path("changes/<int:change_id>/decide/", change_views.change_decide, name="change_decide"),
]
