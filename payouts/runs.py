"""Payout runs: each payout date, every eligible SME is paid their balance by PayPal payout batches, at most once.

How "at most once" holds, whatever crashes or runs twice:
- A run is a row per payout date (unique). Its batches, items and the items' ledger debits are written in
  the transaction that creates it, before PayPal is called; a second runner for the date waits on that
  row's unique key and then finds the run made, so it never computes a second set of items.
- Each batch is sent with its own sender_batch_id as the PayPal-Request-Id, the body rebuilt from our rows:
  a retry, a rerun after a crash or a second runner gets PayPal's first answer replayed. If PayPal no
  longer knows the request id, it refuses the sender_batch_id as a duplicate and links to the batch it
  made, whose id we then record. A batch is refused (and its money put back) only on an answer that
  says PayPal did not make it (a 422 or a validation error); after a timeout it is simply sent again.
- Money comes back (FAILED, RETURNED, BLOCKED, REFUNDED, REVERSED) through one ledger entry per item,
  keyed by its sender_item_id, in the transaction that records the status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby, islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from .bulk import insert_rows
from .calendar import payout_days_between
from .models import PayoutBatch, PayoutItem, PayoutRun
from .paypal.gateway import (
    PayoutItemResult,
    PayoutRequestItem,
    PayPalDeclined,
    PayPalDuplicateBatch,
    PayPalError,
    PayPalGateway,
    PayPalInvalidRequest,
    get_gateway,
)
from .selectors import PayoutLine, payout_lines
from .services import MONEY_BACK_STATUSES, ledger_debit_payouts, ledger_reverse_payout
from .templatetags.money import money

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]
PAGE_SIZE = 1000  # PayPal's largest page of a batch read
WRITE_CHUNK = 5000


class PayoutRunError(Exception):
    """A run that must not start; the message says why."""


def quiet(message: str) -> None:
    pass


def sender_item_id(*, payout_date: date, account_id: int, currency: str) -> str:
    """The item's id at PayPal: the date and the SME (and the currency: an SME has an item per currency)."""
    return f"{payout_date:%Y%m%d}-sme{account_id}-{currency}"


def sender_batch_id(*, payout_date: date, currency: str, number: int) -> str:
    return f"interkanect-{payout_date:%Y%m%d}-{currency}-{number}"


def payout_today() -> date:
    """Today in PAYOUT_TIME_ZONE: the date that decides whether this is a payout day."""
    return timezone.localdate(timezone=_zone())


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.PAYOUT_TIME_ZONE)


def is_payout_day(day: date) -> bool:
    return any(found.date == day for found in payout_days_between(day, day))


@dataclass
class RunReport:
    run: PayoutRun | None = None
    created: bool = False
    items: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    sent_batches: int = 0
    refused_batches: int = 0
    unsent_batches: int = 0
    errors: list[str] = field(default_factory=list)


# --- Creating a run: batches, items and debits in one transaction ---


def _chunks(lines: Iterator[PayoutLine], size: int) -> Iterator[list[PayoutLine]]:
    while chunk := list(islice(lines, size)):
        yield chunk


ITEM_FIELDS = [
    "run",
    "batch",
    "account",
    "amount_cents",
    "currency",
    "recipient_type",
    "receiver",
    "sender_item_id",
    "payout_item_id",
    "transaction_status",
    "error_name",
]


def payout_run_create(*, payout_date: date, progress: Progress = quiet) -> tuple[PayoutRun, bool]:
    """The run for payout_date: created now with every batch, item and ledger debit, or the one already made."""
    max_items = min(settings.PAYOUT_BATCH_MAX_ITEMS, 15_000)
    with transaction.atomic():
        try:
            with transaction.atomic():
                # On PostgreSQL a second runner's insert waits here for the first one's transaction, then fails.
                run = PayoutRun.objects.create(payout_date=payout_date)
        except IntegrityError:
            run = PayoutRun.objects.get(payout_date=payout_date)
            return run, False
        written = 0
        by_currency = groupby(sorted(payout_lines(), key=lambda line: line.currency), key=lambda line: line.currency)
        number = 0
        for currency, lines in by_currency:
            for chunk in _chunks(lines, max_items):
                number += 1
                batch = PayoutBatch.objects.create(
                    run=run,
                    number=number,
                    currency=currency,
                    sender_batch_id=sender_batch_id(payout_date=payout_date, currency=currency, number=number),
                )
                for part in (chunk[i : i + WRITE_CHUNK] for i in range(0, len(chunk), WRITE_CHUNK)):
                    ids = [
                        sender_item_id(payout_date=payout_date, account_id=line.account_id, currency=line.currency)
                        for line in part
                    ]
                    insert_rows(
                        PayoutItem,
                        ITEM_FIELDS,
                        (
                            (run.pk, batch.pk, line.account_id, line.amount_cents, line.currency)
                            + (line.recipient_type, line.receiver, sid, "", "", "")
                            for line, sid in zip(part, ids, strict=True)
                        ),
                    )
                    ledger_debit_payouts(
                        debits=[
                            (line.account_id, line.amount_cents, line.currency, sid)
                            for line, sid in zip(part, ids, strict=True)
                        ]
                    )
                    written += len(part)
                    progress(f"Written {written:,} payout items (batch {number}, {currency}).")
        if number == 0:
            run.status, run.sent_at = PayoutRun.Status.SENT, timezone.now()
            run.save(update_fields=["status", "sent_at"])
        return run, True


# --- Sending a batch ---


def _request_items(batch: PayoutBatch) -> list[PayoutRequestItem]:
    rows = batch.items.order_by("sender_item_id").values_list(
        "sender_item_id", "amount_cents", "currency", "receiver", "recipient_type"
    )
    return [
        PayoutRequestItem(
            sender_item_id=sid,
            amount_cents=amount,
            currency=currency,
            receiver=receiver,
            recipient_type=recipient_type,
            note="Your InterKanect earnings.",
        )
        for sid, amount, currency, receiver, recipient_type in rows.iterator(chunk_size=5000)
    ]


def payout_batch_send(*, batch: PayoutBatch, gateway: PayPalGateway | None = None) -> PayoutBatch:
    """Send a batch PayPal has not accepted yet (same request id and body every time) and record PayPal's id.

    Raises PayPalUnavailable (and other PayPalErrors that do not prove PayPal made nothing): the batch stays
    new, and a later run sends it again."""
    gateway = gateway or get_gateway()
    if batch.status != PayoutBatch.Status.NEW:
        return batch
    try:
        result = gateway.create_payout_batch(
            sender_batch_id=batch.sender_batch_id,
            items=_request_items(batch),
            request_id=batch.sender_batch_id,
        )
        paypal_id, paypal_status = result.payout_batch_id, result.batch_status
    except PayPalDuplicateBatch as duplicate:
        # PayPal made this batch before (its answer was lost, and it no longer knows the request id).
        if not duplicate.payout_batch_id:
            raise
        paypal_id = duplicate.payout_batch_id
        found = gateway.get_payout_batch_page(payout_batch_id=paypal_id, page=1, page_size=1)
        if found.batch.sender_batch_id != batch.sender_batch_id:
            raise PayPalInvalidRequest(
                detail=f"PayPal linked the duplicate {batch.sender_batch_id} to a batch of another sender_batch_id."
            ) from None
        paypal_status = found.batch.batch_status
    except PayPalDeclined as refused:
        return payout_batch_refuse(batch=batch, error=refused)
    except PayPalInvalidRequest as refused:
        if refused.name != "VALIDATION_ERROR":
            raise  # credentials, a reused request id, ...: PayPal may still have the batch; do not give money back
        return payout_batch_refuse(batch=batch, error=refused)
    return payout_batch_record_sent(batch=batch, payout_batch_id=paypal_id, batch_status=paypal_status)


def payout_batch_record_sent(*, batch: PayoutBatch, payout_batch_id: str, batch_status: str) -> PayoutBatch:
    """Record that PayPal accepted the batch as payout_batch_id (once: a second runner's record is a no-op)."""
    with transaction.atomic():
        updated = PayoutBatch.objects.filter(pk=batch.pk, status=PayoutBatch.Status.NEW).update(
            status=PayoutBatch.Status.SENT,
            payout_batch_id=payout_batch_id,
            batch_status=batch_status,
            sent_at=timezone.now(),
        )
        if updated:
            _run_mark_sent_if_done(batch.run_id)
            transaction.on_commit(lambda: _email_batch_sent(batch.pk))
    batch.refresh_from_db()
    if batch.payout_batch_id != payout_batch_id:
        logger.error(
            "Payout batch %s has PayPal id %s; PayPal answered %s", batch, batch.payout_batch_id, payout_batch_id
        )
    return batch


@transaction.atomic
def payout_batch_refuse(*, batch: PayoutBatch, error: PayPalError) -> PayoutBatch:
    """PayPal refused the batch (it made no payout): each item's money goes back on its SME's balance."""
    locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != PayoutBatch.Status.NEW:
        return locked
    locked.status, locked.refusal = PayoutBatch.Status.REFUSED, str(error)
    locked.save(update_fields=["status", "refusal"])
    for item in locked.items.all():
        ledger_reverse_payout(payout_item_ref=item.sender_item_id, status="FAILED", paypal_reason=error.name or "")
    locked.items.update(error_name=error.name or "REFUSED", status_changed_at=timezone.now())
    _run_mark_sent_if_done(locked.run_id)
    return locked


def _run_mark_sent_if_done(run_id: int) -> None:
    if not PayoutBatch.objects.filter(run_id=run_id, status=PayoutBatch.Status.NEW).exists():
        PayoutRun.objects.filter(pk=run_id, status=PayoutRun.Status.SENDING).update(
            status=PayoutRun.Status.SENT, sent_at=timezone.now()
        )


def payout_runs_send(*, gateway: PayPalGateway | None = None, progress: Progress = quiet) -> RunReport:
    """Send every batch PayPal has not accepted yet, of any run (a crash or PayPal outage left them)."""
    gateway = gateway or get_gateway()
    report = RunReport()
    batches = list(PayoutBatch.objects.filter(status=PayoutBatch.Status.NEW).select_related("run").order_by("pk"))
    for n, batch in enumerate(batches, 1):
        try:
            batch = payout_batch_send(batch=batch, gateway=gateway)
        except PayPalError as error:
            report.unsent_batches += 1
            report.errors.append(f"{batch.sender_batch_id}: {error}")
            progress(f"Batch {n}/{len(batches)} {batch.sender_batch_id}: not sent ({error}); a rerun sends it.")
            continue
        if batch.status == PayoutBatch.Status.REFUSED:
            report.refused_batches += 1
            progress(f"Batch {n}/{len(batches)} {batch.sender_batch_id}: refused by PayPal ({batch.refusal}).")
        else:
            report.sent_batches += 1
            progress(
                f"Batch {n}/{len(batches)} {batch.sender_batch_id}: accepted by PayPal as {batch.payout_batch_id}."
            )
    return report


def payout_run(
    *, payout_date: date, gateway: PayPalGateway | None = None, progress: Progress = quiet, sync: bool = True
) -> RunReport:
    """Pay the payout date's run (creating it if needed), finish any earlier unsent batch, then sync statuses."""
    if not is_payout_day(payout_date):
        raise PayoutRunError(f"{payout_date.isoformat()} is not a payout day (see payout_schedule).")
    gateway = gateway or get_gateway()
    run, created = payout_run_create(payout_date=payout_date, progress=progress)
    report = payout_runs_send(gateway=gateway, progress=progress)
    report.run, report.created = run, created
    for currency, amount in run.items.values_list("currency", "amount_cents"):
        report.items += 1
        report.totals[currency] = report.totals.get(currency, 0) + amount
    if sync:
        sync_report = payouts_sync(gateway=gateway, progress=progress)
        report.errors += sync_report.errors
    return report


# --- Status sync ---


@dataclass
class SyncReport:
    batches: int = 0
    items_changed: int = 0
    money_back: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _ItemState:
    pk: int
    sender_item_id: str
    payout_item_id: str
    transaction_status: str
    error_name: str
    status_changed_at: datetime | None
    unclaimed_since: datetime | None


def _apply_results(*, batch: PayoutBatch, results: list[PayoutItemResult], now: datetime, report: SyncReport) -> None:
    """Record PayPal's item statuses; an item whose money came back is credited back (once) in the same transaction."""
    emails = []
    with transaction.atomic():
        rows = (
            PayoutItem.objects.select_for_update()
            .filter(batch=batch, sender_item_id__in=[r.sender_item_id for r in results])
            .values_list(
                "pk",
                "sender_item_id",
                "payout_item_id",
                "transaction_status",
                "error_name",
                "status_changed_at",
                "unclaimed_since",
            )
        )
        ours = {row[1]: _ItemState(*row) for row in rows}
        changed = []
        for result in results:
            item = ours.get(result.sender_item_id)
            if item is None:
                logger.error("PayPal batch %s has an item %s we did not send", batch, result.sender_item_id)
                continue
            status = result.transaction_status
            if (item.transaction_status, item.payout_item_id, item.error_name) == (
                status,
                result.payout_item_id,
                result.error_name,
            ):
                continue
            before = item.transaction_status
            item.payout_item_id = result.payout_item_id
            if status != before:
                item.status_changed_at = now
            item.transaction_status, item.error_name = status, result.error_name
            if status == "UNCLAIMED" and item.unclaimed_since is None:
                item.unclaimed_since = now
            changed.append(item)
            if status in MONEY_BACK_STATUSES and before not in MONEY_BACK_STATUSES:
                ledger_reverse_payout(
                    payout_item_ref=item.sender_item_id, status=status, paypal_reason=result.error_name
                )
                report.money_back += 1
                emails.append(item.pk)
        _save_statuses(changed)
        report.items_changed += len(changed)
        if emails:
            transaction.on_commit(lambda: _email_money_back(emails))


STATUS_FIELDS = ["payout_item_id", "transaction_status", "error_name", "status_changed_at", "unclaimed_since"]


def _save_statuses(items: list[_ItemState]) -> None:
    """One parameterised UPDATE per item, sent as one executemany: bulk_update's CASE over a page of 1,000
    items takes seconds, and PayPal's ids differ per item so a grouped update cannot set them."""
    if not items:
        return
    fields = [PayoutItem._meta.get_field(name) for name in STATUS_FIELDS]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(PayoutItem._meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in fields),
        quote(PayoutItem._meta.pk.column),
    )
    rows = [
        [field.get_db_prep_save(getattr(item, field.name), connection) for field in fields] + [item.pk]
        for item in items
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def payout_batch_sync(
    *, batch: PayoutBatch, gateway: PayPalGateway | None = None, now: datetime | None = None, report: SyncReport
) -> PayoutBatch:
    """Read the batch page by page and record each item's status; close it when nothing more can change."""
    gateway = gateway or get_gateway()
    now = now or timezone.now()
    page, total_pages, batch_status = 1, 1, batch.batch_status
    while page <= total_pages:
        found = gateway.get_payout_batch_page(payout_batch_id=batch.payout_batch_id, page=page, page_size=PAGE_SIZE)
        total_pages, batch_status = found.total_pages, found.batch.batch_status
        _apply_results(batch=batch, results=list(found.batch.items), now=now, report=report)
        page += 1
    open_items = batch.items.exclude(transaction_status__in=PayoutItem.FINAL_STATUSES).exists()
    # A paid item can still be reversed for a while, so a batch is read for PAYOUT_SYNC_DAYS after sending.
    settled = not open_items and batch.sent_at <= now - timedelta(days=settings.PAYOUT_SYNC_DAYS)
    PayoutBatch.objects.filter(pk=batch.pk, status=PayoutBatch.Status.SENT).update(
        batch_status=batch_status,
        synced_at=now,
        **({"status": PayoutBatch.Status.CLOSED, "closed_at": now} if settled else {}),
    )
    batch.refresh_from_db()
    return batch


def payout_items_cancel_unclaimed(
    *, gateway: PayPalGateway | None = None, now: datetime | None = None, report: SyncReport
) -> None:
    """Cancel each item UNCLAIMED for PAYOUT_UNCLAIMED_CANCEL_DAYS: PayPal returns its money (RETURNED), credited."""
    gateway = gateway or get_gateway()
    now = now or timezone.now()
    due = PayoutItem.objects.filter(
        transaction_status="UNCLAIMED",
        unclaimed_since__lte=now - timedelta(days=settings.PAYOUT_UNCLAIMED_CANCEL_DAYS),
    ).exclude(payout_item_id="")
    for item in due.select_related("batch").iterator(chunk_size=1000):
        PayoutItem.objects.filter(pk=item.pk, cancel_requested_at__isnull=True).update(cancel_requested_at=now)
        try:
            result = gateway.cancel_payout_item(
                payout_item_id=item.payout_item_id, request_id=f"cancel-{item.sender_item_id}"
            )
        except PayPalInvalidRequest as error:
            # Claimed or returned meanwhile: the next read of its batch says which.
            report.errors.append(f"{item.sender_item_id}: not cancelled ({error})")
            continue
        report.cancelled += 1
        _apply_results(batch=item.batch, results=[result], now=now, report=report)


def payouts_sync(
    *, gateway: PayPalGateway | None = None, now: datetime | None = None, progress: Progress = quiet
) -> SyncReport:
    """Read every open batch (paged) and record its items' statuses; cancel items unclaimed too long."""
    gateway = gateway or get_gateway()
    now = now or timezone.now()
    report = SyncReport()
    batches = list(PayoutBatch.objects.filter(status=PayoutBatch.Status.SENT).order_by("pk"))
    for n, batch in enumerate(batches, 1):
        try:
            payout_batch_sync(batch=batch, gateway=gateway, now=now, report=report)
        except PayPalError as error:
            report.errors.append(f"{batch.sender_batch_id}: not read ({error})")
            progress(f"Sync {n}/{len(batches)} {batch.sender_batch_id}: PayPal did not answer ({error}).")
            continue
        report.batches += 1
        progress(f"Sync {n}/{len(batches)} {batch.sender_batch_id}: read.")
    try:
        payout_items_cancel_unclaimed(gateway=gateway, now=now, report=report)
    except PayPalError as error:
        report.errors.append(f"cancelling unclaimed items: {error}")
    return report


# --- E-mails (after the transaction that recorded the change) ---


def _earnings_url() -> str:
    return settings.SITE_URL + reverse("payouts_earnings")


def _email_batch_sent(batch_id: int) -> None:
    rows = PayoutItem.objects.filter(batch_id=batch_id).values_list("account__email", "amount_cents", "currency")
    url = _earnings_url()
    messages = (
        (
            "Your InterKanect payout is on its way",
            f"We sent {money(amount, currency)} to your PayPal account. PayPal usually shows it within minutes.\n\n"
            f"Your earnings and payouts: {url}\n",
            None,
            [email],
        )
        for email, amount, currency in rows.iterator(chunk_size=2000)
        if email
    )
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # the payout stands; a lost notice must not undo it
        logger.exception("Payout e-mails for batch %s were not all sent", batch_id)


def _email_money_back(item_ids: list[int]) -> None:
    rows = PayoutItem.objects.filter(pk__in=item_ids).values_list(
        "account__email", "amount_cents", "currency", "transaction_status", "error_name"
    )
    messages = [
        (
            "Your InterKanect payout came back",
            f"PayPal reported your payout of {money(amount, currency)} {status}"
            + (f" ({error})" if error else "")
            + ". The money is back in your balance and is paid at the next payout. Check the PayPal account you "
            f"linked.\n\nYour earnings and payouts: {_earnings_url()}\n",
            None,
            [email],
        )
        for email, amount, currency, status, error in rows
        if email
    ]
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        logger.exception("Payout-returned e-mails were not all sent")
