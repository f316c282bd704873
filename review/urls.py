"""URLs of the review queue, under /review/."""

from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:request_id>/", views.review_detail, name="detail"),
    path("<int:request_id>/decide/", views.review_decide, name="decide"),
]
