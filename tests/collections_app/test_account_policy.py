"""Pure rules: promises pending, kept or broken with grace; plans kept; escalation pauses; the next action."""

import datetime
from decimal import Decimal

from collections_app.account_rules import (
    InstalmentFact,
    PaymentFact,
    PromiseStatus,
    escalation_pause,
    next_action,
    plan_kept,
    promise_status,
    reveal_target_parse,
)

D = datetime.date
PROMISED = D(2026, 5, 10)
MADE = D(2026, 5, 1)


def status(today: datetime.date, *payments: tuple[datetime.date, str], grace: int = 1) -> PromiseStatus:
    facts = [PaymentFact(day, Decimal(amount)) for day, amount in payments]
    return promise_status(
        promised_date=PROMISED, amount=Decimal("500"), made_on=MADE, payments=facts, today=today, grace_days=grace
    ).status


def test_promise_is_pending_through_its_date_and_one_day_of_grace() -> None:
    assert status(D(2026, 5, 2)) == "pending"
    assert status(PROMISED) == "pending"
    assert status(D(2026, 5, 11)) == "pending"


def test_promise_is_broken_the_day_after_the_grace() -> None:
    assert status(D(2026, 5, 12)) == "broken"
    assert status(D(2026, 5, 11), grace=0) == "broken"


def test_promise_is_kept_when_its_amount_arrives_by_the_end_of_the_grace() -> None:
    assert status(D(2026, 5, 5), (D(2026, 5, 4), "500")) == "kept"
    assert status(D(2026, 6, 1), (D(2026, 5, 11), "500")) == "kept"
    assert status(D(2026, 6, 1), (D(2026, 5, 3), "200"), (D(2026, 5, 9), "300")) == "kept"


def test_payments_outside_the_promise_window_do_not_keep_it() -> None:
    assert status(D(2026, 6, 1), (D(2026, 5, 12), "500")) == "broken"
    assert status(D(2026, 6, 1), (D(2026, 4, 30), "500")) == "broken"
    assert status(D(2026, 5, 5), (D(2026, 5, 4), "499.99")) == "pending"


def test_plan_is_kept_while_every_due_instalment_is_paid() -> None:
    instalments = [InstalmentFact(D(2026, 5, 1), D(2026, 4, 30)), InstalmentFact(D(2026, 6, 1))]
    assert plan_kept(active=True, instalments=instalments, today=D(2026, 6, 1)).kept
    missed = plan_kept(active=True, instalments=instalments, today=D(2026, 6, 2))
    assert not missed.kept and missed.missed == (D(2026, 6, 1),)
    assert not plan_kept(active=False, instalments=[], today=D(2026, 6, 1)).kept


def test_escalation_pauses_for_pending_promise_kept_plan_or_open_flag() -> None:
    pending = promise_status(promised_date=PROMISED, amount=Decimal("1"), made_on=MADE, payments=[], today=PROMISED)
    kept_plan = plan_kept(active=True, instalments=[], today=PROMISED)
    assert escalation_pause(promise=pending, plan=None, open_flags=()).codes == ("promise_pending",)
    assert escalation_pause(promise=None, plan=kept_plan, open_flags=()).codes == ("plan_kept",)
    assert escalation_pause(promise=None, plan=None, open_flags={"dispute", "hardship"}).codes == (
        "dispute_open",
        "hardship_open",
    )
    nothing = escalation_pause(promise=None, plan=None, open_flags=())
    assert not nothing.paused and nothing.reasons == ()


def test_next_action_goes_from_the_most_to_the_least_pressing_fact() -> None:
    pending = promise_status(promised_date=PROMISED, amount=Decimal("1"), made_on=MADE, payments=[], today=PROMISED)
    broken = promise_status(promised_date=PROMISED, amount=Decimal("1"), made_on=MADE, payments=[], today=D(2026, 6, 1))
    assert next_action(dpd=None).code == "none"
    assert next_action(dpd=40, cease_requested=True, open_flags={"dispute"}).code == "cease"
    assert next_action(dpd=40, open_flags={"dispute"}, promise=pending).code == "resolve_dispute"
    assert next_action(dpd=40, open_flags={"hardship"}).code == "review_hardship"
    assert next_action(dpd=40, promise=pending).code == "await_promise"
    assert next_action(dpd=40, promise=broken).code == "promise_broken"
    assert next_action(dpd=40, last_outcome="wrong_number").code == "find_number"
    assert next_action(dpd=-2).code == "pre_due"
    assert next_action(dpd=0).code == "due_today"
    assert next_action(dpd=12).code == "call"


def test_reveal_fields_parse_only_the_contract_forms() -> None:
    assert reveal_target_parse("borrower.id_number").field == "borrower.id_number"
    contact = reveal_target_parse("contact.17.phone")
    assert (contact.person_type, contact.contact_id, contact.attribute) == ("contact", 17, "phone")
    for bad in ("borrower", "borrower.email", "contact.1.id_number", "contact.x.name", "contact..name", "x.name", ""):
        assert reveal_target_parse(bad) is None, bad
