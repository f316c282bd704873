"""URLs of the review queue."""

app_name = "review"
urlpatterns: list = []
