"""The SME ledger: append-only entries in integer cents; a balance is their sum."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# The database triggers (migration 0002) raise with this text.
LEDGER_IMMUTABLE_DB_MESSAGE = "ledger entries are append-only"


class LedgerEntryImmutableError(Exception):
    """Something tried to change or delete a ledger entry. Corrections are new, reversing entries."""

    def __init__(self) -> None:
        super().__init__(
            "A ledger entry can never be changed or deleted. To correct a balance, add an adjustment "
            "(with a reason) that reverses it."
        )


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerEntryImmutableError()

    def delete(self):
        raise LedgerEntryImmutableError()

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerEntryImmutableError()

    def update_or_create(self, *args, **kwargs):
        raise LedgerEntryImmutableError()

    def bulk_create(self, objs, *args, update_conflicts=False, **kwargs):
        if update_conflicts:  # an upsert rewrites the entry already recorded for the key
            raise LedgerEntryImmutableError()
        return super().bulk_create(objs, *args, **kwargs)


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        EARNING = "earning", "Earning"  # credit: what the SME earned for one source event (a paid consultation)
        PAYOUT = "payout", "Payout"  # debit: the amount sent in a payout item
        PAYOUT_REVERSAL = "payout_reversal", "Payout returned"  # credit: a failed/returned/unclaimed item
        ADJUSTMENT = "adjustment", "Adjustment"  # either sign: an admin, with a reason
        # debit: an earning taken back because its source was refunded to the client after it was credited
        EARNING_REVERSAL = "earning_reversal", "Earning reversed (refunded)"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries", help_text="The SME."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_cents = models.BigIntegerField(help_text="Positive: owed to the SME; negative: paid out.")
    currency = models.CharField(max_length=3)
    # One entry per source event: the key names the event ("earning:consultation:42"), so a retry or a
    # second worker that records the same event again is refused by the database.
    idempotency_key = models.CharField(max_length=200, unique=True)
    # The cause: exactly what the kind requires (see the constraints). An earning names what was earned
    # as "<kind>:<id>" ("consultation:42") rather than a foreign key, so the ledger knows no app above it.
    source_key = models.CharField(
        max_length=150, blank=True, db_index=True, help_text="What an earning is for, e.g. consultation:42."
    )
    payout_item_ref = models.CharField(
        max_length=127, blank=True, help_text="The payout item's sender_item_id (PayPal knows the item by it too)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The admin who made an adjustment.",
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "currency"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(condition=~Q(currency=""), name="ledger_currency_required"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="ledger_idempotency_key_required"),
            models.CheckConstraint(
                condition=~Q(kind="earning") | (Q(amount_cents__gt=0) & ~Q(source_key="")),
                name="ledger_earning_is_a_credit_for_a_source",
            ),
            models.CheckConstraint(
                condition=~Q(kind="payout") | (Q(amount_cents__lt=0) & ~Q(payout_item_ref="")),
                name="ledger_payout_is_a_debit_for_a_payout_item",
            ),
            models.CheckConstraint(
                condition=~Q(kind="payout_reversal") | (Q(amount_cents__gt=0) & ~Q(payout_item_ref="")),
                name="ledger_reversal_is_a_credit_for_a_payout_item",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | (Q(created_by__isnull=False) & ~Q(reason="")),
                name="ledger_adjustment_has_an_admin_and_a_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="earning_reversal") | (Q(amount_cents__lt=0) & ~Q(source_key="") & ~Q(reason="")),
                name="ledger_earning_reversal_is_a_debit_for_a_source",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["earning", "payout", "payout_reversal", "adjustment", "earning_reversal"]),
                name="ledger_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents} {self.currency} ({self.idempotency_key})"

    def save(self, *args, **kwargs) -> None:
        # With a pk set, Django tries an UPDATE first even for a new instance: an entry's id is the database's.
        if not self._state.adding or self.pk is not None:
            raise LedgerEntryImmutableError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerEntryImmutableError()


# --- Payouts: a run per payout date, its PayPal batches, an item per SME and currency; holds. ---


class PayoutHold(models.Model):
    """Staff stop an SME's payouts (their balance stays) until they lift the hold; both are audited."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_holds", help_text="The SME."
    )
    reason = models.TextField(help_text="Why: staff see it; the SME is told to contact support.")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(lifted_at__isnull=True), name="payout_hold_one_open_per_account"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="payout_hold_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout hold on {self.account} ({'lifted' if self.lifted_at else 'open'})"


class PayoutRun(models.Model):
    """The payout of one payout date. Created, with all its batches, items and ledger debits, in one transaction."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"  # written; some batch not yet accepted (or refused) by PayPal
        SENT = "sent", "Sent"  # every batch accepted or refused

    payout_date = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-payout_date"]

    def __str__(self) -> str:
        return f"Payout run {self.payout_date.isoformat()}"


class PayoutBatch(models.Model):
    """A PayPal payout batch (at most 15,000 items, one currency). sender_batch_id is ours, stored before PayPal."""

    class Status(models.TextChoices):
        NEW = "new", "Not yet accepted by PayPal"
        SENT = "sent", "Accepted by PayPal"
        REFUSED = "refused", "Refused by PayPal (money back)"
        CLOSED = "closed", "Closed (every item settled)"

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="batches")
    number = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    sender_batch_id = models.CharField(max_length=127, unique=True)
    payout_batch_id = models.CharField(max_length=64, blank=True, help_text="PayPal's id, once it accepted the batch.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    batch_status = models.CharField(max_length=20, blank=True, help_text="PayPal's batch_status at the last read.")
    refusal = models.TextField(blank=True, help_text="PayPal's answer when it refused the batch.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "payout batches"
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="payout_batch_number_unique_per_run"),
            models.UniqueConstraint(
                fields=["payout_batch_id"], condition=~Q(payout_batch_id=""), name="payout_batch_paypal_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="new") | Q(status="refused") | ~Q(payout_batch_id=""),
                name="payout_batch_sent_has_paypal_id",
            ),
        ]

    def __str__(self) -> str:
        return self.sender_batch_id


class PayoutItem(models.Model):
    """What one SME is sent in one currency on one payout date. Its ledger debit is written with it."""

    # PayPal's transaction_status values after which nothing more is expected of the item (but a reversal).
    FINAL_STATUSES = frozenset({"SUCCESS", "FAILED", "RETURNED", "REFUNDED", "REVERSED", "BLOCKED"})

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="items")
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_items")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    recipient_type = models.CharField(max_length=10)  # PayPal's: EMAIL or PAYPAL_ID
    receiver = models.CharField(max_length=254)
    # "<date>-<SME>-<currency>": the same on every retry, and the ledger debit's payout_item_ref.
    sender_item_id = models.CharField(max_length=63, unique=True)
    payout_item_id = models.CharField(max_length=64, blank=True)
    transaction_status = models.CharField(max_length=20, blank=True, help_text="PayPal's; empty until it reports one.")
    error_name = models.CharField(max_length=100, blank=True, help_text="PayPal's reason, when it did not pay.")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    unclaimed_since = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "sender_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "account", "currency"], name="payout_item_one_per_sme_per_run"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payout_item_amount_positive"),
        ]
        indexes = [models.Index(fields=["account", "run"])]

    def __str__(self) -> str:
        return self.sender_item_id

    @property
    def state_display(self) -> str:
        """The item's state as the SME reads it."""
        if self.batch.status == PayoutBatch.Status.REFUSED:
            return "Refused by PayPal: back in your balance"
        return STATE_LABELS.get(self.transaction_status, self.transaction_status.capitalize() or "Sending")


STATE_LABELS = {
    "": "Sending",
    "PENDING": "Pending at PayPal",
    "SUCCESS": "Paid",
    "UNCLAIMED": "Unclaimed: accept it in PayPal (an account for this address) or it comes back to your balance",
    "ONHOLD": "On hold at PayPal",
    "FAILED": "Failed: back in your balance",
    "RETURNED": "Returned: back in your balance",
    "BLOCKED": "Blocked by PayPal: back in your balance",
    "REFUNDED": "Refunded: back in your balance",
    "REVERSED": "Reversed: back in your balance",
}
