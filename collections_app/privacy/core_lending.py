"""Hand corrections over to the core lending system, as `CORE_LENDING_CORRECTIONS` says:

- `console` (default): logs that a correction was forwarded, with its field names (never the values);
- `file:DIR`: writes one JSON file per correction, `DIR/correction-<id>.json`, with the keys `correction_id`,
  `request_id`, `account_number`, `borrower_ref`, `subject` (`borrower` or `contact`), `contact_phone` (the
  phone the core system knows the contact by, for a contact) and `fields` ({field: new value}); the core
  system's own job picks the files up. A file is written whole (a temporary name, then renamed), so a reader never
  sees half of one; writing it again gives the same bytes.

A correction row is written in the transaction that fulfils its request and handed over once that commits; a row
whose hand-over failed stays unforwarded, and `core_corrections_forward` hands it over on its next run. Once handed
over, the row keeps the field names, the moment and the destination, not the values.
"""

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from collections_app.models import CoreCorrection
from collections_app.services.erasure import ERASED_TEXT

logger = logging.getLogger(__name__)


def correction_document(correction: CoreCorrection) -> dict[str, Any]:
    """The JSON object the core system receives for one correction."""
    request = correction.request
    contact = request.contact
    return {
        "correction_id": correction.pk,
        "request_id": request.pk,
        "account_number": request.account.account_number,
        "borrower_ref": request.account.borrower.external_ref,
        "subject": "borrower" if contact is None else "contact",
        "contact_phone": None if contact is None else contact.phone,
        "fields": correction.fields,
    }


def _transport() -> tuple[str, str]:
    """(`console`, "") or (`file`, DIR), from the setting; anything else is a configuration error."""
    value = settings.CORE_LENDING_CORRECTIONS
    if value == "console":
        return "console", ""
    kind, _sep, target = value.partition(":")
    if kind == "file" and target:
        return "file", target
    raise ImproperlyConfigured(f"CORE_LENDING_CORRECTIONS must be console or file:DIR, not {value!r}.")


def _write_file(directory: str, name: str, document: dict[str, Any]) -> None:
    Path(directory).mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2).encode()
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, Path(directory) / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def core_correction_forward(correction: CoreCorrection) -> CoreCorrection:
    """Hand one correction over (again, harmlessly, if an earlier hand-over's record was lost) and record where."""
    kind, target = _transport()
    if kind == "file":
        name = f"correction-{correction.pk}.json"
        _write_file(target, name, correction_document(correction))
        forwarded_to = f"file:{name}"
    else:
        logger.info("correction %s forwarded to the core system: fields %s", correction.pk, sorted(correction.fields))
        forwarded_to = "console"
    moment = timezone.now()
    # Handed over, the values are the core system's: the app keeps which fields went, when and where.
    kept = dict.fromkeys(correction.fields, ERASED_TEXT)
    CoreCorrection.objects.filter(pk=correction.pk, forwarded_at__isnull=True).update(
        forwarded_at=moment, forwarded_to=forwarded_to, fields=kept
    )
    correction.forwarded_at, correction.forwarded_to, correction.fields = moment, forwarded_to, kept
    return correction


def core_corrections_forward() -> int:
    """Hand over every correction not yet forwarded (after a failed hand-over); how many went."""
    pending = CoreCorrection.objects.filter(forwarded_at__isnull=True).select_related(
        "request__account__borrower", "request__contact"
    )
    count = 0
    for correction in pending.order_by("pk"):
        try:
            core_correction_forward(correction)
        except OSError:
            logger.warning("correction %s could not be forwarded", correction.pk, exc_info=True)
            continue
        count += 1
    return count


def core_correction_forward_on_commit(correction: CoreCorrection) -> None:
    """Hand the correction over once the transaction that wrote it commits (never one that rolled back)."""

    def forward() -> None:
        try:
            core_correction_forward(correction)
        except OSError:
            # Stays unforwarded: the next `core_corrections_forward` run hands it over.
            logger.warning("correction %s could not be forwarded", correction.pk, exc_info=True)

    transaction.on_commit(forward)
