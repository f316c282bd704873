"""URLs of the data-subject requests."""

from django.urls import path

from collections_app.privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.privacy_request_list, name="list"),
    path("new/", views.privacy_request_new, name="new"),
    path("<int:privacy_request_id>/", views.privacy_request_detail, name="detail"),
    path("<int:privacy_request_id>/decide/", views.privacy_request_decide_view, name="decide"),
    path("<int:privacy_request_id>/access-file/", views.privacy_request_access_file, name="access_file"),
]
