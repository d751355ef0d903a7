"""Users (SME and client roles), SME profiles, and the audit log every sensitive change writes to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower

from .usernames import USERNAME_HELP_TEXT, validate_username_rules

# The database triggers (migrations 0002 and 0004) raise with these texts; we turn them into
# UsernameLockedError and ActivationLockedError.
USERNAME_LOCK_DB_MESSAGE = "username is locked after activation"
ACTIVATION_LOCK_DB_MESSAGE = "activation cannot be undone"


class UsernameLockedError(ValueError):
    """A username was about to change after its account was activated."""

    def __init__(self, usernames: list[str]) -> None:
        names = ", ".join(repr(name) for name in usernames)
        super().__init__(
            f"The username {names} cannot change: a username is fixed once the account is activated. "
            "Someone who needs another username opens a new account."
        )


class ActivationLockedError(ValueError):
    """An activated account was about to lose its activation (which would unlock its username)."""

    def __init__(self, usernames: list[str]) -> None:
        names = ", ".join(repr(name) for name in usernames)
        super().__init__(
            f"The account {names} is activated, and an activation cannot be undone: clearing it would let "
            "the username change. Close the account instead."
        )


def _lock_error_from_db(exc: IntegrityError, usernames) -> ValueError | None:
    """The model-level error for a refusal by one of the triggers, or None for another IntegrityError."""
    if USERNAME_LOCK_DB_MESSAGE in str(exc):
        return UsernameLockedError(list(usernames()))
    if ACTIVATION_LOCK_DB_MESSAGE in str(exc):
        return ActivationLockedError(list(usernames()))
    return None


class UserQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if "username" not in kwargs and "activated_at" not in kwargs:
            return super().update(**kwargs)
        if "username" in kwargs and isinstance(kwargs["username"], str):
            locked = list(
                self.filter(activated_at__isnull=False)
                .exclude(username=kwargs["username"])
                .values_list("username", flat=True)
            )
            if locked:
                raise UsernameLockedError(locked)
        if "activated_at" in kwargs and kwargs["activated_at"] is None:
            activated = list(self.filter(activated_at__isnull=False).values_list("username", flat=True))
            if activated:
                raise ActivationLockedError(activated)
        # An expression (bulk_update's Case/When, Lower(...), ...) cannot be checked up front:
        # the database triggers refuse it, and we report that the same way.
        try:
            with transaction.atomic(using=self.db):
                return super().update(**kwargs)
        except IntegrityError as exc:
            error = _lock_error_from_db(
                exc, lambda: self.filter(activated_at__isnull=False).values_list("username", flat=True)
            )
            if error is not None:
                raise error from exc
            raise

    def bulk_update(self, objs, fields, batch_size=None):
        if "username" in fields or "activated_at" in fields:
            objs = list(objs)
            stored = dict(
                self.model._base_manager.using(self.db)
                .filter(pk__in=[obj.pk for obj in objs], activated_at__isnull=False)
                .values_list("pk", "username")
            )
            if "username" in fields:
                changed = [stored[obj.pk] for obj in objs if obj.pk in stored and obj.username != stored[obj.pk]]
                if changed:
                    raise UsernameLockedError(changed)
            if "activated_at" in fields:
                cleared = [stored[obj.pk] for obj in objs if obj.pk in stored and obj.activated_at is None]
                if cleared:
                    raise ActivationLockedError(cleared)
        return super().bulk_update(objs, fields, batch_size=batch_size)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        # Usernames are unique ignoring case (accounts/usernames.py), so "ADA" is ada: at login, and when
        # createsuperuser asks whether a name is taken.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    class Role(models.TextChoices):
        SME = "sme", "Subject-matter expert"
        CLIENT = "client", "Client"

    # Django's own field, with our rules (accounts/usernames.py) instead of its "150 characters" ones.
    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        validators=[validate_username_rules],
        help_text=USERNAME_HELP_TEXT,
        error_messages={"unique": "That username is already taken. Choose another."},
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CLIENT)
    activated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail address was confirmed; the username is fixed from then on."
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Nullable on purpose: SQLite adds a nullable column in place, while a NOT NULL one makes Django rebuild the
    # table, which drops its triggers (the username lock). Empty or NULL both mean "unknown".
    time_zone = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="The person's IANA time zone, from their browser at sign-up or claim; e-mails show times in it.",
    )
    closed_email = models.EmailField(
        blank=True, help_text="The address the account had when it was closed (freed for a new registration)."
    )

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(is_active=False),
                name="user_closed_is_inactive",
            ),
            # "Ada" and "ada" would be two people one reader cannot tell apart; the database refuses it
            # even when two sign-ups race past the forms' check.
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_ignoring_case",
                violation_error_message="That username is already taken. Choose another.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        checks_username = update_fields is None or "username" in update_fields
        checks_activation = self.activated_at is None and (update_fields is None or "activated_at" in update_fields)
        if not self._state.adding and self.pk and (checks_username or checks_activation):
            stored = (
                type(self)
                ._base_manager.using(kwargs.get("using") or self._state.db or "default")
                .filter(pk=self.pk, activated_at__isnull=False)
                .values_list("username", flat=True)
                .first()
            )
            if stored is not None and checks_username and stored != self.username:
                raise UsernameLockedError([stored])
            if stored is not None and checks_activation:
                raise ActivationLockedError([stored])
        super().save(*args, **kwargs)

    @property
    def is_sme(self) -> bool:
        return self.role == self.Role.SME

    @property
    def is_client(self) -> bool:
        return self.role == self.Role.CLIENT

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class SMEProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="sme_profile")
    display_name = models.CharField(max_length=80)
    headline = models.CharField(max_length=120, blank=True, help_text="One line about your expertise.")
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualification_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Where payouts go (payouts.services.sme_paypal_*): verified by "Log in with PayPal", or typed in.
    paypal_email = models.EmailField("PayPal e-mail address", blank=True)
    paypal_payer_id = models.CharField("PayPal payer ID", max_length=32, blank=True)
    paypal_verified = models.BooleanField(
        default=False, help_text="Confirmed by Log in with PayPal; unverified when the SME typed the address."
    )
    paypal_linked_at = models.DateTimeField(null=True, blank=True)
    # A PayPal account is paid from one open SME account at a time (so a disqualified SME cannot be paid
    # through a second account). Closing the account (accounts.services.user_close) clears this: the
    # PayPal account is free for a new SME account, while the closed one's balance is still paid there.
    holds_paypal = models.BooleanField(
        "holds its PayPal account",
        default=True,
        help_text="While the account is open, no other open SME account may link the same PayPal account.",
    )

    class Meta:
        verbose_name = "SME profile"
        constraints = [
            models.UniqueConstraint(
                Lower("paypal_email"),
                condition=models.Q(holds_paypal=True) & ~models.Q(paypal_email=""),
                name="smeprofile_paypal_email_one_open_account",
                violation_error_message="This PayPal account is already linked to another open SME account.",
            ),
            models.UniqueConstraint(
                fields=["paypal_payer_id"],
                condition=models.Q(holds_paypal=True) & ~models.Q(paypal_payer_id=""),
                name="smeprofile_paypal_payer_id_one_open_account",
                violation_error_message="This PayPal account is already linked to another open SME account.",
            ),
            models.CheckConstraint(
                condition=models.Q(paypal_verified=False)
                | (~models.Q(paypal_email="") & ~models.Q(paypal_payer_id="")),
                name="smeprofile_verified_paypal_has_email_and_payer_id",
            ),
            models.CheckConstraint(
                condition=models.Q(paypal_payer_id="") | models.Q(paypal_verified=True),
                name="smeprofile_paypal_payer_id_only_when_verified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user.username})"

    @property
    def is_disqualified(self) -> bool:
        return self.disqualified_at is not None

    @property
    def has_paypal(self) -> bool:
        return bool(self.paypal_email)


class AuditEvent(models.Model):
    """Who did what, when: one row per money, moderation or security change. Never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: the system."
    )
    subject = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events")
    event = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.event}"
