"""The officer's repayment-plan pages, under /cases/<account_id>/ beside the account's other forms."""

from django.urls import path

from collections_app.team import plan_views

app_name = "plans"
urlpatterns = [
    path("<int:account_id>/plans/new/", plan_views.plan_new, name="plan_new"),
    path("<int:account_id>/plans/<int:plan_id>/withdraw/", plan_views.plan_withdraw, name="plan_withdraw"),
]
