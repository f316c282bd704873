"""What survives of an erased phone number: its keyed hash, so the number is never imported or contacted again."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErasedPhone(models.Model):
    """The HMAC of an erased E.164 number (`collections_app.services.erasure.phone_hmac`), never the number.

    Any row opts the number out, as a `PhoneOptOut` does; `import_blocked` rows (a person's deletion or objection)
    also keep the accounts import from recreating a contact with that number. Retention keeps a row only for a
    number that had opted out, so that its opt-out outlives the erased value.
    """

    phone_hmac = models.CharField(_("phone HMAC"), max_length=64, unique=True)
    import_blocked = models.BooleanField(_("never imported again"), default=False)
    erased_at = models.DateTimeField(_("erased at"))

    class Meta:
        verbose_name = _("erased phone")
        verbose_name_plural = _("erased phones")

    def __str__(self) -> str:
        return f"{_('Erased phone')} #{self.pk}"
