"""URLs of the officer's caseload."""

app_name = "collections"
urlpatterns: list = []
