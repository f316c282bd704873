"""URLs of the team lead's desk (CONTRACT.md: /team/, /team/reassign/, /team/accounts/<account_id>/)."""

from django.urls import path

from collections_app.team import plan_views, views

app_name = "team"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("reassign/", views.reassign, name="reassign"),
    path("plans/<int:plan_id>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/decide/", plan_views.plan_decide, name="plan_decide"),
]
