"""URLs of the message gateway's webhooks."""

app_name = "hooks"
urlpatterns: list = []
