"""The officer's family-contact request URLs, under /cases/ (mounted before the caseload's own URLs)."""

from django.urls import path

from review import views

app_name = "review_officer"
urlpatterns = [
    path("<int:account_id>/family-contact/new/", views.request_new, name="request_new"),
    path("<int:account_id>/family-contact/<int:request_id>/", views.request_detail, name="request_detail"),
    path("<int:account_id>/family-contact/<int:request_id>/withdraw/", views.request_withdraw, name="request_withdraw"),
]
