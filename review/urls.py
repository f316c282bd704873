"""URLs of the review queue, the template approval and the policy proposals, under /review/."""

from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:request_id>/", views.review_detail, name="detail"),
    path("<int:request_id>/decide/", views.review_decide, name="decide"),
    path("templates/", views.template_queue, name="templates"),
    path("templates/<int:version_id>/decide/", views.template_decide, name="template_decide"),
    path("policies/", views.policy_queue, name="policies"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:proposal_id>/decide/", views.policy_decide, name="policy_decide"),
    path("policies/<int:proposal_id>/dry-run/", views.policy_dry_run_page, name="policy_dry_run"),
]
