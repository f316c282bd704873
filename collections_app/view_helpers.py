"""Small helpers every app's form pages share: a service's errors on the form, and the redirect after a POST."""

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect


def add_service_errors(form: Form, error: ValidationError) -> None:
    """Put a service's validation errors next to the matching fields, the rest at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def redirect_303(url: str) -> HttpResponse:
    """303 See Other: the browser follows a POST that was taken with a GET of `url`."""
    response = redirect(url)
    response.status_code = 303
    return response
