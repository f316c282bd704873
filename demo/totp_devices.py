"""Enrol the demo users' TOTP devices with the secrets published in CONTRACT.md (used by seed_demo)."""

import base64

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

# Base32, SHA-1, 6 digits, 30 s: scan them into any authenticator app to sign in to the demo.
DEMO_TOTP_SECRETS = {
    "approver1": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "approver2": "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
    "auditor1": "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA",
    "lead1": "VO65VB5ID3EDTPGSNDFDIRTVFRHOUBB3",
    "admin": "ORSXG5BAMFSGI4TFONZSA4DBONZXO33S",
    "admin2": "C7WURGDVYK62KNSJ5XTDKQUFVPP57WTW",
}
DEMO_DEVICE_NAME = "demo"


def demo_totp_devices_enrol() -> int:
    """Give each existing demo user exactly its published TOTP device; idempotent; returns devices created."""
    created = 0
    with transaction.atomic():
        for username, secret in DEMO_TOTP_SECRETS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                continue
            key = base64.b32decode(secret).hex()
            device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
            if device is None:
                TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=key, confirmed=True)
                created += 1
            elif device.key != key or not device.confirmed:
                device.key, device.confirmed = key, True
                device.save(update_fields=["key", "confirmed"])
    return created
