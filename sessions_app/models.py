"""Consultations: what an SME sells, who claimed it, where it is in its life, and its agreed time."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse


def new_join_token() -> str:
    # 32 random bytes: 256 bits, well above the 128 the design asks for; URL-safe, 43 characters.
    return secrets.token_urlsafe(32)


class Consultation(models.Model):
    class State(models.TextChoices):
        CREATED = "created", "Waiting for a client"
        CLAIMED = "claimed", "Claimed, waiting for payment"
        READY = "ready", "Ready"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    # The state groups, named once: services, selectors and templates use these names.
    NOT_YET_LIVE_STATES = (State.CREATED, State.CLAIMED, State.READY)  # never held (yet): may expire
    BOOKED_STATES = (State.CLAIMED, State.READY)  # a client claimed it; not held yet
    OPEN_STATES = (*NOT_YET_LIVE_STATES, State.LIVE)
    ROOM_STATES = (State.READY, State.LIVE)
    CLOSED_STATES = (State.COMPLETED, State.CANCELLED, State.EXPIRED)
    # Who may cancel, and until when: the SME before it was live, the client before it is ready (paid).
    CANCEL_STATES = {"sme": NOT_YET_LIVE_STATES, "client": (State.CLAIMED,)}

    token = models.CharField(max_length=64, unique=True, default=new_join_token, editable=False)
    sme = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_consultations")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booked_consultations",
    )
    title = models.CharField(max_length=120)
    agreed_minutes = models.PositiveIntegerField(help_text="The agreed duration; extensions add to it.")
    extension_minutes = models.PositiveIntegerField(default=0, help_text="Sum of the accepted extensions.")
    price_cents = models.BigIntegerField(help_text="0 for a free session.")
    currency = models.CharField(max_length=3, default="USD")
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_tz = models.CharField(
        max_length=64, blank=True, help_text="The SME's time zone when they set the start (IANA name), for e-mails."
    )
    reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the 'about to start' e-mail went out; it goes out once."
    )
    creation_key = models.CharField(
        max_length=64, blank=True, help_text="The create form's one-time key: a double submit creates one consultation."
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.CREATED, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    live_at = models.DateTimeField(
        null=True, blank=True, help_text="When both people were first connected: the timer starts here."
    )
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Completed, cancelled or expired at.")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(max_length=200, blank=True)

    # Room presence: each member's current channel (empty when not connected), so the relay can send
    # straight to the other member's channel, and a second tab can take over from the first.
    sme_channel = models.CharField(max_length=200, blank=True)
    client_channel = models.CharField(max_length=200, blank=True)
    last_left_at = models.DateTimeField(null=True, blank=True, help_text="When the room last became empty.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_cents__gte=0), name="consultation_price_not_negative"),
            models.CheckConstraint(condition=models.Q(agreed_minutes__gte=1), name="consultation_minutes_positive"),
            models.CheckConstraint(
                condition=~models.Q(state__in=["claimed", "ready", "live", "completed"])
                | models.Q(client__isnull=False),
                name="consultation_claimed_has_client",
            ),
            models.CheckConstraint(
                condition=~models.Q(client=models.F("sme")), name="consultation_client_is_not_the_sme"
            ),
            models.UniqueConstraint(
                fields=["sme", "creation_key"],
                condition=~models.Q(creation_key=""),
                name="consultation_one_per_creation_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("consultation_join", args=[self.token])

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0

    @property
    def total_minutes(self) -> int:
        return self.agreed_minutes + self.extension_minutes

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED_STATES

    @property
    def scheduled_end(self):
        if self.scheduled_start is None:
            return None
        return self.scheduled_start + timedelta(minutes=self.total_minutes)

    def member_role(self, user) -> str | None:
        """'sme' or 'client' for the two members of this consultation, None for anyone else."""
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        if user.pk == self.sme_id:
            return "sme"
        if self.client_id is not None and user.pk == self.client_id:
            return "client"
        return None


class ConsultationExtension(models.Model):
    """Extra minutes the SME proposes in the room; they count once the client accepts."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="extensions")
    minutes = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    proposed_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["proposed_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gte=1), name="extension_minutes_positive"),
            # At most one open proposal per consultation.
            models.UniqueConstraint(
                fields=["consultation"], condition=models.Q(state="proposed"), name="one_open_extension"
            ),
        ]

    def __str__(self) -> str:
        return f"+{self.minutes} min ({self.state})"


class FreeSessionReviewCase(models.Model):
    """An SME crossed a free-session limit: the figures that triggered it, and one admin decision on it.

    The policy opens a case (sessions_app.services.free_sessions); it never disqualifies by itself. An admin
    decides it once in Django admin; the decision is never edited afterwards, and a later reinstatement
    is recorded beside it, not over it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISQUALIFIED = "disqualified", "Disqualified"
        DISMISSED = "dismissed", "Dismissed"
        REINSTATED = "reinstated", "Disqualified, then reinstated"

    class OpenConsultations(models.TextChoices):
        """What a disqualification does with the SME's consultations that were not held yet."""

        CANCEL = "cancel", "Cancel them (a paid one is refunded)"
        LEAVE = "leave", "Leave them for admins to decide"

    class Kind(models.TextChoices):
        """What opened the case: the free-session limits, or a PayPal account shared with a disqualified SME."""

        FREE_SESSIONS = "free_sessions", "Free-session limit crossed"
        SHARED_PAYPAL = "shared_paypal", "PayPal account of a disqualified SME"

    sme = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="free_session_cases")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FREE_SESSIONS)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    # A shared-PayPal case: the disqualified SME whose PayPal account this SME linked (or tried to).
    paypal_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    # The figures that opened the case, as they were then (the limits too: settings may change later).
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    live_sessions = models.PositiveIntegerField(help_text="Sessions that went live in the window.")
    free_sessions = models.PositiveIntegerField(help_text="Of those, the free ones.")
    max_count = models.PositiveIntegerField(help_text="Free sessions allowed in the window.")
    max_share_percent = models.PositiveIntegerField(help_text="Share of free sessions allowed, in percent.")
    share_min_sessions = models.PositiveIntegerField(help_text="Live sessions from which the share limit applies.")
    crossed = models.CharField(max_length=80, help_text="Which limit was crossed.")

    # The decision: made once.
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_text = models.TextField(
        blank=True, help_text="Disqualified: the reason the SME is shown. Dismissed: the admin's note."
    )
    open_consultations = models.CharField(max_length=8, choices=OpenConsultations.choices, blank=True)
    cancelled_consultations = models.PositiveIntegerField(default=0)

    # A reinstatement after a disqualification: a second decision, recorded beside the first.
    reinstated_at = models.DateTimeField(null=True, blank=True)
    reinstated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reinstatement_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = "free-session review case"
        permissions = [
            ("review_free_session_case", "Can review free-session cases: disqualify, dismiss, reinstate SMEs"),
        ]
        constraints = [
            # Evaluation is idempotent; the database refuses a second open case even under a race.
            models.UniqueConstraint(
                fields=["sme", "kind"], condition=models.Q(status="open"), name="one_open_review_case_per_sme_and_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="free_sessions", paypal_holder__isnull=True)
                | models.Q(kind="shared_paypal", paypal_holder__isnull=False),
                name="review_case_paypal_holder_iff_shared_paypal",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", decided_at__isnull=True, decided_by__isnull=True)
                | (~models.Q(status="open") & models.Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="free_session_case_decided_iff_closed",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "dismissed"]) | ~models.Q(decision_text=""),
                name="free_session_case_disqualification_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="reinstated", reinstated_at__isnull=False, reinstated_by__isnull=False)
                | (~models.Q(status="reinstated") & models.Q(reinstated_at__isnull=True)),
                name="free_session_case_reinstated_iff_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"Free sessions of {self.sme} ({self.get_status_display().lower()}, {self.opened_at:%Y-%m-%d})"


class Payment(models.Model):
    """A client's payment of a priced consultation through PayPal checkout (an Orders v2 order, captured once).

    The row is written before PayPal is called, so the request ids PayPal sees derive from it; one live
    payment per consultation (a declined or abandoned one leaves room for a retry).
    """

    class State(models.TextChoices):
        CREATED = "created", "Being sent to PayPal"
        APPROVAL = "approval", "Waiting for the client's approval at PayPal"
        CAPTURING = "capturing", "Being captured"
        PENDING = "pending", "Held by PayPal for review"
        CAPTURED = "captured", "Paid"
        DECLINED = "declined", "Declined by PayPal"
        ABANDONED = "abandoned", "Not paid: cancelled"
        FAILED = "failed", "Refused by PayPal"

    LIVE_STATES = (State.CREATED, State.APPROVAL, State.CAPTURING, State.PENDING, State.CAPTURED)
    # Nothing was (or will be) taken from the client.
    UNCHARGED_STATES = (State.DECLINED, State.ABANDONED, State.FAILED)

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="payments")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATED, db_index=True)

    return_url = models.CharField(max_length=500, help_text="Where PayPal sends the client after approving.")
    cancel_url = models.CharField(max_length=500, help_text="Where PayPal sends the client after cancelling.")
    order_id = models.CharField(max_length=64, blank=True, help_text="PayPal's order id.")
    approve_url = models.CharField(max_length=500, blank=True)
    capture_id = models.CharField(max_length=64, blank=True, help_text="PayPal's capture id: what a refund refers to.")
    payer_id = models.CharField(max_length=32, blank=True)
    paypal_status = models.CharField(max_length=30, blank=True, help_text="PayPal's status of the capture.")
    paypal_reason = models.CharField(
        max_length=80, blank=True, help_text="PayPal's reason: why a capture is pending, or the error it answered."
    )
    paypal_fee_cents = models.BigIntegerField(
        null=True, blank=True, help_text="PayPal's fee on the capture (seller_receivable_breakdown.paypal_fee)."
    )
    net_cents = models.BigIntegerField(
        null=True, blank=True, help_text="What PayPal passed on to us after its fee (net_amount)."
    )
    platform_fee_cents = models.BigIntegerField(
        null=True, blank=True, help_text="The platform's fee, taken when the SME's earning was credited."
    )
    earning_cents = models.BigIntegerField(
        null=True, blank=True, help_text="What the SME was credited: the amount less the platform fee."
    )
    capture_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When a capture was last sent: one sender at a time until it is stale."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation"],
                condition=models.Q(state__in=["created", "approval", "capturing", "pending", "captured"]),
                name="payment_one_live_per_consultation",
            ),
            models.UniqueConstraint(
                fields=["order_id"], condition=~models.Q(order_id=""), name="payment_order_id_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(state="captured")
                | (~models.Q(capture_id="") & models.Q(captured_at__isnull=False)),
                name="payment_captured_has_capture",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} of consultation {self.consultation_id} ({self.get_state_display()})"

    def request_id(self, step: str) -> str:
        """The PayPal-Request-Id of one step ("create", "capture"): from our own row, so a retry is a repeat."""
        return f"interkanect-payment-{self.pk}-{step}"


class Refund(models.Model):
    """A full refund of a captured payment: written in the transaction that decided it, sent to PayPal after.

    One per payment (each refund happens once). Housekeeping sends it again until PayPal answers; one that
    PayPal refuses waits for staff, who see PayPal's reason and may retry (a new round, a new request id).
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "Waiting to be sent to PayPal"
        SENDING = "sending", "Being sent to PayPal"
        PENDING = "pending", "Accepted by PayPal, not completed yet"
        COMPLETED = "completed", "Refunded"
        FAILED = "failed", "Refused by PayPal: waiting for staff"

    class Reason(models.TextChoices):
        CANCELLED = "cancelled", "The consultation was cancelled"
        EXPIRED = "expired", "The consultation expired"
        SME_CLOSED = "sme_closed", "The expert closed their account"
        SME_DISQUALIFIED = "sme_disqualified", "The expert was disqualified"
        STAFF = "staff", "Refunded by staff"

    OPEN_STATES = (State.REQUESTED, State.SENDING, State.PENDING)

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED, db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund_id = models.CharField(max_length=64, blank=True, help_text="PayPal's refund id.")
    round = models.PositiveIntegerField(
        default=1, help_text="A staff retry after PayPal refused starts a new round, with a new request id."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    paypal_error = models.CharField(
        max_length=200, blank=True, help_text="PayPal's reason for the last refusal or failure."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(state="completed")
                | (~models.Q(refund_id="") & models.Q(completed_at__isnull=False)),
                name="refund_completed_has_paypal_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk} of payment {self.payment_id} ({self.get_state_display()})"

    def request_id(self) -> str:
        return f"interkanect-refund-{self.pk}-{self.round}"
