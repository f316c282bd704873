"""The one masking helper for names, phones and ID numbers, used by templates and admin alike."""

from django.db.models import CharField, Func


def mask_name(name: str) -> str:
    """Keep the first character: `张三丰` -> `张**`, `Alice` -> `A****`."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: `+8613812345678` -> `138****5678`."""
    digits = phone.removeprefix("+86") if phone.startswith("+86") else phone
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """Keep the first four and last four characters: `110101199003074514` -> `1101**********4514`."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


class MaskedName(Func):
    """SQL twin of `masking.mask_name` (first character, then stars); a test keeps the two equal."""

    output_field = CharField()
    template = (
        "(CASE WHEN %(expressions)s = '' THEN '' "
        "ELSE left(%(expressions)s, 1) || repeat('*', greatest(char_length(%(expressions)s) - 1, 1)) END)"
    )

    # Kept as SQL rather than ORM functions: `render_sql` puts this template into the escalation's one
    # INSERT ... SELECT, for bench_escalation.
    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        """SQLite has no repeat(): a zero blob's hex digits, each pair turned into one star."""
        template = (
            "(CASE WHEN %(expressions)s = '' THEN '' ELSE substr(%(expressions)s, 1, 1) || "
            "replace(hex(zeroblob(max(length(%(expressions)s) - 1, 1))), '00', '*') END)"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)
