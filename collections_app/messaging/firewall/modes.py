"""Firewall profiles: the jurisdiction data the firewall reads, by name, and each compiled for matching.

A policy profile's `firewall_mode` names one of PROFILES; `collections_app.selectors.profiles` adds the
policy's own hotlines and product names to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol

from collections_app.messaging.firewall.fold import fold
from collections_app.messaging.firewall.lexicon import DEBT_CN_RX, DEBT_CN_STRICT_RX, DEBT_EN_RX, DEBT_EN_STRICT_RX
from collections_app.messaging.firewall.patterns import ASCII_LETTERS, escape


@dataclass(frozen=True)
class FirewallProfile:
    """The jurisdiction data the firewall reads; strict_debt flags any mention of debt or repayment."""

    name: str
    hotlines: tuple[str, ...] = ()
    product_names: tuple[str, ...] = ()
    strict_debt: bool = False
    phone_region: str = "CN"
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Profiles built from database rows may arrive with lists; the compiled-pattern cache needs hashable fields.
        object.__setattr__(self, "hotlines", tuple(self.hotlines))
        object.__setattr__(self, "product_names", tuple(self.product_names))
        # Hashed once: lint_message looks its compiled patterns up by profile on every call.
        fields = (self.name, self.hotlines, self.product_names, self.strict_debt, self.phone_region)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash


PROFILES: dict[str, FirewallProfile] = {
    "cn-default": FirewallProfile(
        name="cn-default",
        hotlines=("95188",),
        product_names=tuple(
            "借呗 花呗 微粒贷 白条 京东金条 网商贷 备用金 安逸花 有钱花 360借条 美团月付 分期乐 信用卡".split()
        ),
    ),
    "us-regf": FirewallProfile(
        name="us-regf",
        product_names=("credit card", "Affirm", "Klarna", "Afterpay", "PayPal Credit"),
        strict_debt=True,
        phone_region="US",
    ),
    "uk-conc": FirewallProfile(
        name="uk-conc",
        product_names=("credit card", "Klarna", "Clearpay", "Zopa", "Lendable", "payday loan"),
        strict_debt=True,
        phone_region="GB",
    ),
}


class UnknownProfileError(LookupError):
    """No firewall profile has that name."""


def firewall_profile_get(name: str) -> FirewallProfile:
    """Return the firewall profile called name, or raise UnknownProfileError."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfileError(name) from None


class PolicyFirewallValues(Protocol):
    """What the firewall reads of a policy version: its mode, service hotlines and product names."""

    firewall_mode: str
    service_hotlines: list[str]
    product_names: list[str]


def firewall_profile_for(policy_version: PolicyFirewallValues) -> FirewallProfile:
    """The firewall profile for messages under `policy_version`: its mode plus its hotlines and products."""
    base = firewall_profile_get(policy_version.firewall_mode)
    return replace(
        base,
        hotlines=tuple(dict.fromkeys([*base.hotlines, *policy_version.service_hotlines])),
        product_names=tuple(dict.fromkeys([*base.product_names, *policy_version.product_names])),
    )


@dataclass(frozen=True)
class CompiledProfile:
    """What lint_message reads of a profile: its debt and product patterns, hotline digits and phone region."""

    debt_cn: re.Pattern[str]
    debt_en: re.Pattern[str]
    products: re.Pattern[str] | None
    hotline_digits: frozenset[str]
    phone_region: str


@lru_cache(maxsize=64)
def compile_profile(profile: FirewallProfile) -> CompiledProfile:
    """The patterns and numbers lint_message reads for profile, built once per profile."""
    names = [fold(name).strip() for name in profile.product_names]
    # Longest first, so "PayPal Credit" wins over a shorter name it starts with.
    products = [
        escape(n) + ("(?![a-z])" if n[-1:] in ASCII_LETTERS else "")
        for n in sorted(set(names), key=lambda n: (-len(n), n))
        if n
    ]
    return CompiledProfile(
        debt_cn=DEBT_CN_STRICT_RX if profile.strict_debt else DEBT_CN_RX,
        debt_en=DEBT_EN_STRICT_RX if profile.strict_debt else DEBT_EN_RX,
        products=re.compile("|".join(products)) if products else None,
        hotline_digits=frozenset(d for d in ("".join(c for c in h if c.isdigit()) for h in profile.hotlines) if d),
        phone_region=profile.phone_region,
    )
