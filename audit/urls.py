"""URLs of the auditor's pages."""

app_name = "audit"
urlpatterns: list = []
