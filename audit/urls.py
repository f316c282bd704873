"""URLs of the auditor's pages."""

from django.urls import path, re_path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.audit_export, name="export"),
    path("exceptions/", views.compliance_exceptions, name="exceptions"),
    path("exceptions.csv", views.compliance_exceptions_csv, name="exceptions_csv"),
    path("verify/", views.verification, name="verification"),
    path("verify/start/", views.verification_start, name="verification_start"),
    path("holds/", views.legal_holds, name="legal_holds"),
    path("holds/lift/", views.legal_hold_lift_view, name="legal_hold_lift"),
    path("archives/", views.archives, name="archives"),
    path("archives/decide/", views.archive_decide, name="archive_decide"),
    re_path(r"^person/(?P<kind>borrower|contact)/(?P<person_id>[0-9]+)/$", views.person_report, name="person"),
    re_path(
        r"^person/(?P<kind>borrower|contact)/(?P<person_id>[0-9]+)\.csv$", views.person_report_csv, name="person_csv"
    ),
]
