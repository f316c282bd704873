"""The officer's family-contact request URLs, under /cases/."""

app_name = "review_officer"
urlpatterns: list = []
