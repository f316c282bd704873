"""URLs of the compliance inbox (auditors)."""

from django.urls import path

from collections_app.messaging import views

app_name = "inbox"
urlpatterns = [
    path("compliance/", views.compliance_inbox, name="compliance"),
    path("compliance/<int:reply_id>/read/", views.compliance_reply_read, name="compliance_read"),
]
