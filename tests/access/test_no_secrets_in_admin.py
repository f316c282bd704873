"""Administrators never see a secret: no TOTP key, QR code or recovery code on any admin page (issue 16)."""

import base64

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import RISK_APPROVER
from tests.conftest import signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def secrets_of_carol() -> list[str]:
    """carol's TOTP key (hex and base32) and recovery codes: what no admin page may show."""
    carol = make_user("carol", RISK_APPROVER)
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=carol, name="recovery", confirmed=True)
    tokens = [StaticToken.objects.create(device=recovery, token=StaticToken.random_token()).token for _ in range(3)]
    return [device.key, base64.b32encode(device.bin_key).decode(), *tokens]


def test_no_device_model_has_an_admin() -> None:
    registered = {model._meta.app_label for model in admin.site._registry}
    assert not registered & {"otp_totp", "otp_static", "axes"}


def test_no_admin_page_shows_a_totp_secret_or_recovery_code(admin_user: User, secrets_of_carol: list[str]) -> None:
    client = signed_in(admin_user)
    for path in ("/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/", "/admin/axes/accessattempt/"):
        assert client.get(path).status_code == 404, path
    pages = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(base)
        first = model.objects.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            pages += [f"{base}{first}/change/", f"{base}{first}/history/"]
    carol = User.objects.get(username="carol")
    pages += [f"/admin/auth/user/{carol.pk}/change/", "/access/changes/"]
    walked = 0
    for page in pages:
        response = client.get(page)
        if response.status_code != 200:
            continue
        walked += 1
        body = response.content.decode()
        leaked = [secret for secret in secrets_of_carol if secret in body or secret.lower() in body.lower()]
        assert not leaked, f"{page} shows {leaked}"
    assert walked > 20
