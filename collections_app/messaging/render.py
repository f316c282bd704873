"""The one placeholder filler: a template body with its placeholders filled, in Python and as its SQL twin.

A body may use only `PLACEHOLDERS`. The borrower's name is always masked; the lender name, hotline and opt-out
line come from the policy version, the opt-out line in the template's language. `render_body` fills a body in
Python (the outbox, previews); the ladder's set-based inserts use `body_expression` and `render_sql`, which
fill the same values with the same `_fill`, leave a slot where the name goes and let the database mask the
name (`MaskedName`). A test holds them equal.
"""

import string

from django.db.models import CharField, Value
from django.db.models.functions import Concat

from collections_app.masking import MaskedName, mask_name
from collections_app.models import Borrower, Message, PolicyVersion, TemplateVersion

PLACEHOLDERS = ("borrower_name", "lender_name", "hotline", "opt_out")
# Stands in for the borrower's name while a body is split around it: no template or profile text holds NUL.
NAME_SLOT = "\x00"


def template_placeholders_unknown(body: str) -> list[str]:
    """Placeholders in `body` outside the fixed set (and malformed braces as `{`)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]
    except ValueError:
        return ["{"]
    return sorted({name for name in names if name not in PLACEHOLDERS})


def fill_placeholders(body: str, *, borrower_name: str, lender_name: str, hotline: str, opt_out: str) -> str:
    """`body` with each of the fixed placeholders replaced by the value given: the one placeholder filler."""
    return body.format_map(
        {"borrower_name": borrower_name, "lender_name": lender_name, "hotline": hotline, "opt_out": opt_out}
    )


def _fill(body: str, *, borrower_name: str, policy_version: PolicyVersion, language: str) -> str:
    """`body` with the name given as is and the profile's values filled in, the opt-out line in `language`."""
    return fill_placeholders(
        body,
        borrower_name=borrower_name,
        lender_name=policy_version.lender_name,
        hotline=(policy_version.service_hotlines or [""])[0],
        opt_out=policy_version.opt_out_line_for(language),
    )


def render_body(body: str, *, borrower_name: str, policy_version: PolicyVersion, audience: str, language: str) -> str:
    """The text of a message from `body`, written in `language`, for this borrower under this policy version."""
    text = _fill(body, borrower_name=mask_name(borrower_name), policy_version=policy_version, language=language)
    # Every family message ends with the opt-out line of its language, whatever the template says.
    opt_out = policy_version.opt_out_line_for(language)
    if audience == Message.Audience.FAMILY and not text.rstrip().endswith(opt_out):
        # A sentence in English needs a space before the next one; Chinese runs on.
        separator = " " if opt_out.isascii() and text.strip() else ""
        text = f"{text.rstrip()}{separator}{opt_out}"
    return text


def message_render_preview(
    *, template_version: TemplateVersion, borrower: Borrower, policy_version: PolicyVersion
) -> str:
    """The text a message from this version would carry for this borrower; writes nothing."""
    return render_body(
        template_version.body,
        borrower_name=borrower.name,
        policy_version=policy_version,
        audience=template_version.template.audience,
        language=template_version.template.language,
    )


def _literals(version: TemplateVersion, policy_version: PolicyVersion) -> list[str]:
    """The filled body's text around each place the borrower's name goes (borrower messages: no opt-out suffix)."""
    filled = _fill(
        version.body, borrower_name=NAME_SLOT, policy_version=policy_version, language=version.template.language
    )
    return filled.split(NAME_SLOT)


def body_expression(version: TemplateVersion, policy: PolicyVersion) -> Concat | Value:
    """The template rendered in SQL: profile values filled in here, the masked name by the database."""
    parts: list = []
    for index, literal in enumerate(_literals(version, policy)):
        if index:
            parts.append(MaskedName("borrower__name"))
        if literal:
            parts.append(Value(literal))
    if len(parts) == 1:
        return parts[0]
    return Concat(*parts, output_field=CharField())


def render_sql(
    policy: PolicyVersion, versions: dict[tuple[str, str], TemplateVersion], ranks: dict
) -> tuple[str, list]:
    """SQL of the body for stage rank `sendable.stage`: each template with profile values filled in, name masked."""
    masked = MaskedName.template % {"expressions": "b.name"}
    whens, params = [], []
    for key, version in versions.items():
        literals = _literals(version, policy)
        whens.append(f"WHEN %s THEN concat({f', {masked}, '.join(['%s'] * len(literals))})")
        params += [ranks[key], *literals]
    return f"CASE p.stage {' '.join(whens)} END", params
