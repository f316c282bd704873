"""Root URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from config import views

urlpatterns = [
    path("", RedirectView.as_view(url="/cases/", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("language/", views.set_language, name="set_language"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("cases/", include("review.officer_urls")),
    path("cases/", include("collections_app.urls")),
    path("review/", include("review.urls")),
    path("audit/", include("audit.urls")),
    path("hooks/", include("collections_app.hook_urls")),
    path("admin/", admin.site.urls),
]
