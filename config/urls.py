"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

from access import views as auth_views
from config import views

urlpatterns = [
    path("", auth_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("language/", views.set_language, name="set_language"),
    path("accounts/login/", auth_views.signin, name="login"),
    path("accounts/mfa/", auth_views.mfa_verify, name="mfa_verify"),
    path("accounts/mfa/enrol/", auth_views.mfa_enrol, name="mfa_enrol"),
    path("accounts/security/recovery-codes/", auth_views.recovery_codes, name="recovery_codes"),
    path("accounts/logout/", auth_views.signout, name="logout"),
    path("cases/", include("review.officer_urls")),
    path("cases/", include("collections_app.urls")),
    path("cases/", include("collections_app.team.officer_urls")),
    path("team/", include("collections_app.team.urls")),
    path("complaints/", include("collections_app.complaint_urls")),
    path("privacy/requests/", include("collections_app.privacy.urls")),
    path("review/", include("review.urls")),
    path("audit/", include("audit.urls")),
    path("access/", include("access.urls")),
    path("hooks/", include("collections_app.messaging.urls")),
    path("inbox/", include("collections_app.messaging.inbox_urls")),
    # One sign-in for everyone: the admin's own login page would skip the second factor.
    path("admin/login/", auth_views.admin_login_redirect),
    path("admin/", admin.site.urls),
]
