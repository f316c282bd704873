"""URLs of the officer's complaint register."""

from django.urls import path

from collections_app import complaint_views

app_name = "complaints"
urlpatterns = [
    path("", complaint_views.complaint_list, name="list"),
    path("new/", complaint_views.complaint_new, name="new"),
    path("<int:complaint_id>/advance/", complaint_views.complaint_advance_view, name="advance"),
]
