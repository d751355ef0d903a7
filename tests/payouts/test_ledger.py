"""The ledger's guarantees, at the database level (run on SQLite and on PostgreSQL), the model layer and the admin."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.models import AuditEvent
from payouts import services
from payouts.models import LedgerEntry, LedgerEntryImmutableError
from payouts.selectors import ledger_balance
from sessions_app import services as consultations
from tests.factories import PASSWORD, make_client, make_consultation, make_paid_consultation, make_sme

pytestmark = pytest.mark.django_db


def completed_consultation(*, sme=None, price_cents=2500):
    """Paid through PayPal (the emulator) when priced, held and completed."""
    if price_cents:
        consultation = make_paid_consultation(sme=sme or make_sme(), price_cents=price_cents)
    else:
        consultation = make_consultation(sme=sme or make_sme(), price_cents=0)
        consultations.consultation_claim(consultation=consultation, client=make_client())
    consultations.consultation_go_live(consultation=consultation)
    consultations.consultation_complete(consultation=consultation, actor=None)
    return consultation


def _admin():
    from accounts.models import User

    return User.objects.create_superuser("ledger-admin", "admin@example.com", PASSWORD)


def test_a_balance_is_the_sum_of_earnings_payouts_reversals_and_adjustments(paypal_emulator):
    sme = make_sme()
    consultations.consultation_credit_earning(consultation=completed_consultation(sme=sme, price_cents=2500))
    consultations.consultation_credit_earning(consultation=completed_consultation(sme=sme, price_cents=1000))
    services.ledger_debit_payout(account=sme, amount_cents=3500, currency="USD", payout_item_ref="run-1-sme-1")
    services.ledger_reverse_payout(payout_item_ref="run-1-sme-1", status="UNCLAIMED")
    services.ledger_adjust(account=sme, amount_cents=-500, reason="Goodwill refund to a client", admin=_admin())
    assert ledger_balance(account=sme).amount_cents == 2500 + 1000 - 3500 + 3500 - 500
    assert ledger_balance(account=make_sme()).amount_cents == 0


def test_an_earning_is_credited_once_however_often_it_is_recorded(paypal_emulator):
    consultation = completed_consultation(price_cents=4200)
    first = consultations.consultation_credit_earning(consultation=consultation)
    second = consultations.consultation_credit_earning(consultation=consultation)
    assert first.pk == second.pk
    assert ledger_balance(account=consultation.sme).amount_cents == 4200
    assert AuditEvent.objects.filter(event="ledger.earning_credited", target_id=str(first.pk)).count() == 1


def test_an_unfinished_or_free_consultation_earns_nothing(paypal_emulator):
    open_one = make_consultation(price_cents=1000)
    with pytest.raises(services.LedgerError):
        consultations.consultation_credit_earning(consultation=open_one)
    with pytest.raises(services.LedgerError):
        consultations.consultation_credit_earning(consultation=completed_consultation(price_cents=0))
    assert not LedgerEntry.objects.exists()


def test_a_reversal_credits_back_exactly_the_debit_and_only_once():
    sme = make_sme()
    services.ledger_debit_payout(account=sme, amount_cents=1999, currency="USD", payout_item_ref="item-7")
    first = services.ledger_reverse_payout(payout_item_ref="item-7", status="FAILED")
    again = services.ledger_reverse_payout(payout_item_ref="item-7", status="FAILED")
    assert first.pk == again.pk and first.amount_cents == 1999 and "FAILED" in first.reason
    assert ledger_balance(account=sme).amount_cents == 0


def test_the_same_payout_item_recorded_again_with_another_amount_is_refused_not_ignored():
    sme = make_sme()
    services.ledger_debit_payout(account=sme, amount_cents=1000, currency="USD", payout_item_ref="item-8")
    with pytest.raises(services.LedgerError, match="another amount or account"):
        services.ledger_debit_payout(account=sme, amount_cents=1500, currency="USD", payout_item_ref="item-8")
    with pytest.raises(services.LedgerError, match="another amount or account"):
        services.ledger_debit_payout(account=make_sme(), amount_cents=1000, currency="USD", payout_item_ref="item-8")
    assert ledger_balance(account=sme).amount_cents == -1000 and LedgerEntry.objects.count() == 1


def test_a_currency_code_not_in_capitals_is_refused_since_its_balance_would_be_a_separate_one():
    with pytest.raises(services.LedgerError, match="three-letter"):
        services.ledger_debit_payout(account=make_sme(), amount_cents=100, currency="usd", payout_item_ref="item-c")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="three-letter"):
        services.ledger_adjust(account=make_sme(), amount_cents=100, currency="Usd", reason="x", admin=_admin())
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("status", ["SUCCESS", "PENDING", "ONHOLD", ""])
def test_a_payout_item_that_reached_the_sme_or_still_may_is_never_credited_back(status):
    sme = make_sme()
    services.ledger_debit_payout(account=sme, amount_cents=1999, currency="USD", payout_item_ref="item-s")
    with pytest.raises(services.LedgerError, match="did not come back"):
        services.ledger_reverse_payout(payout_item_ref="item-s", status=status)
    assert ledger_balance(account=sme).amount_cents == -1999


def test_nothing_is_reversed_for_a_payout_item_that_was_never_debited():
    with pytest.raises(services.LedgerError, match="nothing to reverse"):
        services.ledger_reverse_payout(payout_item_ref="never-sent", status="RETURNED")


def test_an_adjustment_needs_a_reason_and_a_staff_member():
    sme = make_sme()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Say why"):
        services.ledger_adjust(account=sme, amount_cents=100, reason="  ", admin=_admin())
    with pytest.raises(ValidationError, match="Only staff"):
        services.ledger_adjust(account=sme, amount_cents=100, reason="bonus", admin=make_client())


def test_every_entry_records_its_cause(paypal_emulator):
    consultation = completed_consultation()
    earning = consultations.consultation_credit_earning(consultation=consultation)
    debit = services.ledger_debit_payout(
        account=consultation.sme, amount_cents=100, currency="USD", payout_item_ref="item-9"
    )
    admin = _admin()
    adjustment = services.ledger_adjust(account=consultation.sme, amount_cents=5, reason="Rounding", admin=admin)
    assert earning.source_key == f"consultation:{consultation.pk}"
    assert debit.payout_item_ref == "item-9"
    assert (adjustment.created_by, adjustment.reason) == (admin, "Rounding")


# --- What the database itself refuses (no service, no model check in the way). ---


def insert(**fields):
    values = {"kind": "adjustment", "amount_cents": 100, "currency": "USD", "reason": "test", **fields}
    values.setdefault("idempotency_key", f"test:{LedgerEntry.objects.count()}:{values['amount_cents']}")
    with transaction.atomic():
        return LedgerEntry.objects.create(**values)


def test_the_database_refuses_a_zero_amount():
    admin = _admin()
    with pytest.raises(IntegrityError):
        insert(account=make_sme(), created_by=admin, amount_cents=0)


def test_the_database_refuses_an_entry_without_an_account():
    with pytest.raises(IntegrityError):
        insert(account=None, created_by=_admin())


def test_the_database_refuses_a_second_entry_for_the_same_source_event():
    admin, sme = _admin(), make_sme()
    insert(account=sme, created_by=admin, idempotency_key="earning:consultation:1")
    with pytest.raises(IntegrityError):
        insert(account=sme, created_by=admin, idempotency_key="earning:consultation:1")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "earning"},  # no source
        {"kind": "payout", "amount_cents": -100},  # no payout item
        {"kind": "payout", "amount_cents": 100, "payout_item_ref": "item-1"},  # a payout is a debit
        {"kind": "payout_reversal", "amount_cents": -100, "payout_item_ref": "item-1"},  # a reversal credits
        {"kind": "adjustment", "reason": ""},  # no reason
        {"kind": "adjustment", "created_by": None},  # no admin
        {"kind": "gift"},  # no such kind
    ],
    ids=[
        "earning-without-source",
        "payout-without-item",
        "positive-payout",
        "negative-reversal",
        "adjustment-without-reason",
        "adjustment-without-admin",
        "unknown-kind",
    ],
)
def test_the_database_refuses_an_entry_without_its_cause(fields):
    values = {"account": make_sme(), "created_by": _admin(), **fields}
    with pytest.raises(IntegrityError):
        insert(**values)


def test_the_model_layer_refuses_to_change_or_delete_an_entry():
    entry = services.ledger_adjust(account=make_sme(), amount_cents=100, reason="Bonus", admin=_admin())
    entry.amount_cents = 1_000_000
    for attempt in (
        entry.save,
        entry.delete,
        lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount_cents=1),
        lambda: LedgerEntry.objects.all().delete(),
        lambda: LedgerEntry.objects.bulk_update([entry], ["amount_cents"]),
    ):
        with pytest.raises(LedgerEntryImmutableError, match="never be changed or deleted"):
            attempt()
    entry.refresh_from_db()
    assert entry.amount_cents == 100


def test_the_model_layer_never_turns_a_new_entry_into_an_overwrite_of_an_old_one():
    entry = services.ledger_adjust(account=make_sme(), amount_cents=100, reason="Bonus", admin=_admin())
    fields = {f.attname: getattr(entry, f.attname) for f in LedgerEntry._meta.concrete_fields}
    same_id = LedgerEntry(**{**fields, "amount_cents": 1_000_000})  # Django would UPDATE the row with this id
    same_key = LedgerEntry(**{**fields, "id": None, "amount_cents": 1_000_000})
    for attempt in (
        same_id.save,
        lambda: LedgerEntry.objects.bulk_create(
            [same_key], update_conflicts=True, unique_fields=["idempotency_key"], update_fields=["amount_cents"]
        ),
    ):
        with pytest.raises(LedgerEntryImmutableError):
            attempt()
    assert LedgerEntry.objects.get(pk=entry.pk).amount_cents == 100


def test_the_database_refuses_to_change_an_entry_even_in_raw_sql():
    entry = services.ledger_adjust(account=make_sme(), amount_cents=100, reason="Bonus", admin=_admin())
    with pytest.raises((IntegrityError, DatabaseError), match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE payouts_ledgerentry SET amount_cents = 1 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount_cents == 100


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps no DELETE trigger (test flushes use DELETE)"
)
def test_postgresql_refuses_to_delete_an_entry_even_in_raw_sql():
    entry = services.ledger_adjust(account=make_sme(), amount_cents=100, reason="Bonus", admin=_admin())
    with pytest.raises((IntegrityError, DatabaseError), match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM payouts_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


# --- The admin: read-only entries; an adjustment goes through the service. ---


def test_the_admin_shows_entries_read_only_and_refuses_to_change_or_delete_them(client):
    admin = _admin()
    entry = services.ledger_adjust(account=make_sme(), amount_cents=100, reason="Bonus", admin=admin)
    client.force_login(admin)
    page = client.get(f"/admin/payouts/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    changed = client.post(f"/admin/payouts/ledgerentry/{entry.pk}/change/", {"amount_cents": 5, "reason": "x"})
    assert changed.status_code == 403
    assert client.post(f"/admin/payouts/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount_cents == 100


def test_an_admin_adjustment_is_recorded_once_with_its_reason_and_audited(client):
    admin, sme = _admin(), make_sme()
    client.force_login(admin)
    form = {"account": sme.pk, "amount_cents": "-250", "currency": "USD", "reason": "Chargeback", "request_key": "k1"}
    assert client.post("/admin/payouts/ledgerentry/add/", form).status_code == 302
    assert client.post("/admin/payouts/ledgerentry/add/", form).status_code == 302  # the same form again
    entry = LedgerEntry.objects.get()
    assert (entry.amount_cents, entry.reason, entry.created_by) == (-250, "Chargeback", admin)
    assert AuditEvent.objects.filter(event="ledger.adjusted", actor=admin, subject=sme).count() == 1


def test_an_admin_adjustment_of_zero_is_refused_with_a_clear_error(client):
    client.force_login(_admin())
    form = {"account": make_sme().pk, "amount_cents": "0", "currency": "USD", "reason": "oops", "request_key": "k2"}
    page = client.post("/admin/payouts/ledgerentry/add/", form)
    assert page.status_code == 200 and b"other than 0" in page.content
    assert not LedgerEntry.objects.exists()


def test_an_admin_adjustment_typed_in_lower_case_counts_in_the_balance(client):
    sme = make_sme()
    client.force_login(_admin())
    form = {"account": sme.pk, "amount_cents": "700", "currency": "usd", "reason": "Bonus", "request_key": "k3"}
    assert client.post("/admin/payouts/ledgerentry/add/", form).status_code == 302
    assert ledger_balance(account=sme).amount_cents == 700
    page = client.post("/admin/payouts/ledgerentry/add/", {**form, "currency": "US", "request_key": "k4"})
    assert page.status_code == 200 and b"three-letter currency code" in page.content
    assert LedgerEntry.objects.count() == 1


def test_an_admin_adjustment_form_sent_again_with_another_amount_is_refused_with_a_clear_error(client):
    sme = make_sme()
    client.force_login(_admin())
    form = {"account": sme.pk, "amount_cents": "700", "currency": "USD", "reason": "Bonus", "request_key": "k5"}
    assert client.post("/admin/payouts/ledgerentry/add/", form).status_code == 302
    page = client.post("/admin/payouts/ledgerentry/add/", {**form, "amount_cents": "7000"})  # back, edited, sent
    text = page.content.decode()
    assert page.status_code == 200 and "This form already recorded an adjustment" in text and "700 USD" in text
    assert ledger_balance(account=sme).amount_cents == 700


def test_an_earning_is_credited_by_its_source_key_alone_and_a_malformed_one_is_refused():
    sme = make_sme()
    entry = services.ledger_credit_earning(account=sme, amount_cents=1500, currency="USD", source_key="order:7")
    assert (entry.kind, entry.source_key, entry.idempotency_key) == ("earning", "order:7", "earning:order:7")
    for bad in (
        {"source_key": ""},
        {"source_key": "42"},
        {"source_key": "order:"},
        {"amount_cents": 0},
        {"amount_cents": True},
        {"amount_cents": 1.5},
        {"currency": "usd"},
    ):
        with pytest.raises(services.LedgerError):
            services.ledger_credit_earning(
                **{"account": sme, "amount_cents": 100, "currency": "USD", "source_key": "order:8", **bad}
            )
    assert ledger_balance(account=sme).amount_cents == 1500


@pytest.mark.parametrize("amount", [12.5, 12.0, True, Decimal("12"), "1200", None])
def test_an_amount_that_is_not_an_int_of_cents_is_refused_not_rounded(amount):
    sme, admin = make_sme(), _admin()
    with pytest.raises(services.LedgerError, match="whole number of cents"):
        services.ledger_debit_payout(account=sme, amount_cents=amount, currency="USD", payout_item_ref="run-1-sme-1")
    with pytest.raises(services.LedgerError, match="whole number of cents"):
        services.ledger_adjust(account=sme, amount_cents=amount, reason="Bonus", admin=admin)
    assert not LedgerEntry.objects.exists()
    assert ledger_balance(account=sme).amount_cents == 0
