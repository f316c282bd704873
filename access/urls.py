"""Access changes: /access/changes/ (CONTRACT.md, second round); the password-reset link's page."""

from django.urls import path
from django.views.generic import TemplateView

from access import change_views
from access.password_reset import PasswordSetView

app_name = "access"

urlpatterns = [
    path("changes/", change_views.changes, name="changes"),
    path("changes/new/", change_views.change_new, name="change_new"),
    path("changes/<int:change_id>/decide/", change_views.change_decide, name="change_decide"),
    path("password/<uidb64>/<token>/", PasswordSetView.as_view(), name="password_set"),
    path(
        "password/done/",
        TemplateView.as_view(template_name="registration/password_set_done.html"),
        name="password_set_done",
    ),
]
