"""Reads for the risk approver's template review: each family version awaiting approval, rendered, diffed, linted.

A version is shown as a message from it would read under each policy profile in force (render.py's one filler,
with a sample borrower name, so the profile's lender name, hotline and opt-out line are in it), with what the
firewall finds in each rendering (checks.py's `message_lint`, as the outbox runs it) and a word-level diff
against the template's previous version. Nothing here writes; `template_version_decide` takes the decision.
"""

import difflib
import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from access.roles import RISK_APPROVER, user_has_role
from collections_app.messaging.checks import message_lint
from collections_app.messaging.firewall.lint import Finding
from collections_app.messaging.message_templates import template_versions_awaiting_approval
from collections_app.messaging.render import render_body
from collections_app.models import Message, TemplateVersion
from collections_app.selectors.profiles import current_policy_versions

User = AbstractBaseUser | AnonymousUser
# The name a preview is rendered for; the renderer masks it, as it masks every borrower's name.
SAMPLE_BORROWER_NAMES = {"en": "Alex Smith"}
SAMPLE_BORROWER_NAME = "张三"
# Diff tokens: a run of Latin letters or digits (a word), a run of spaces, or any other single character (each
# Chinese character is a word of its own, so a one-character change shows as one).
_TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class Rendering:
    """A version rendered under one policy profile, with the firewall's findings on that text."""

    profile: str
    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class TemplateReview:
    """One version awaiting approval, as the approver sees it before deciding."""

    version: TemplateVersion
    previous: TemplateVersion | None
    diff: SafeString
    renderings: tuple[Rendering, ...]
    own: bool

    @property
    def clean(self) -> bool:
        """Whether the firewall found nothing under any profile."""
        return not any(rendering.findings for rendering in self.renderings)


def text_diff_html(old: str, new: str) -> SafeString:
    """`new` as HTML, with what it drops from `old` in <del> and what it adds in <ins>; every piece escaped."""
    before, after = _TOKEN.findall(old), _TOKEN.findall(new)
    parts: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(before[i1:i2]))}</del>")
        if tag in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(after[j1:j2]))}</ins>")
        if tag == "equal":
            parts.append(escape("".join(after[j1:j2])))
    return mark_safe("".join(parts))  # noqa: S308 - built only from escaped text and fixed tags


def _renderings(version: TemplateVersion) -> tuple[Rendering, ...]:
    template = version.template
    name = SAMPLE_BORROWER_NAMES.get(template.language, SAMPLE_BORROWER_NAME)
    renderings = []
    for policy_version in sorted(current_policy_versions().values(), key=lambda pv: pv.profile.code):
        text = render_body(
            version.body,
            borrower_name=name,
            policy_version=policy_version,
            audience=template.audience,
            language=template.language,
        )
        findings = message_lint(body=text, audience=template.audience, policy_version=policy_version)
        renderings.append(Rendering(profile=policy_version.profile.code, text=text, findings=tuple(findings)))
    return tuple(renderings)


def template_reviews_for_user(user: User) -> list[TemplateReview]:
    """Every family version awaiting approval, oldest first, rendered, linted and diffed; none for a non-approver."""
    if not user_has_role(user, RISK_APPROVER):
        return []
    versions = list(
        template_versions_awaiting_approval().select_related("template", "created_by").order_by("created_at", "pk")
    )
    # Each awaiting version is its template's newest, so its predecessor is the template's second newest.
    awaiting = {version.pk for version in versions}
    earlier: dict[int, TemplateVersion] = {}
    for older in TemplateVersion.objects.filter(template_id__in=[version.template_id for version in versions]).order_by(
        "template_id", "-version"
    ):
        if older.pk not in awaiting:
            earlier.setdefault(older.template_id, older)
    reviews = []
    for version in versions:
        previous = earlier.get(version.template_id)
        reviews.append(
            TemplateReview(
                version=version,
                previous=previous,
                diff=text_diff_html(previous.body if previous else "", version.body),
                renderings=_renderings(version),
                own=version.created_by_id == user.pk,
            )
        )
    return reviews


def template_version_get_for_review(user: User, version_id: int | str) -> TemplateVersion:
    """A family template version a risk approver may decide (decided or not); Http404 for anything else."""
    try:
        pk = int(version_id)
    except (TypeError, ValueError):
        raise Http404("No such template version.") from None
    if not user_has_role(user, RISK_APPROVER):
        raise Http404("No such template version.")
    version = (
        TemplateVersion.objects.select_related("template")
        .filter(pk=pk, template__audience=Message.Audience.FAMILY)
        .first()
    )
    if version is None:
        raise Http404("No such template version.")
    return version
