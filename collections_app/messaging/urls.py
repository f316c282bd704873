"""URLs of the message gateway's webhooks."""

from django.urls import path

from collections_app.messaging import webhooks as hooks

app_name = "hooks"
urlpatterns = [
    path("gateway/inbound/", hooks.inbound, name="gateway_inbound"),
    path("gateway/receipt/", hooks.receipt, name="gateway_receipt"),
]
