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
