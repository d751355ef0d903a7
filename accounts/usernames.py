"""The one set of username rules, applied on every path that sets a username.

Sign-up and the activation page (through the allauth adapter's ``clean_username``), the admin's forms,
``createsuperuser`` and the model field itself all call these functions, so a username that one path
refuses no other path accepts. A username is fixed once its account is activated, so a mistake here is
permanent: better refused with a clear reason than accepted.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 30
USERNAME_HELP_TEXT = (
    f"{USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters: letters, digits, dots, hyphens and underscores, "
    "starting with a letter or digit."
)
_USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")

# Names people would read as the platform speaking (or that impersonate PayPal, which pays them).
# Compared case-insensitively and ignoring dots, hyphens and underscores ("Pay-Pal" is "paypal").
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "staff",
        "support",
        "help",
        "helpdesk",
        "info",
        "contact",
        "security",
        "abuse",
        "billing",
        "payments",
        "payouts",
        "paypal",
        "moderator",
        "system",
        "official",
        "noreply",
        "postmaster",
        "webmaster",
        "interkanect",
        "anonymous",
        "null",
        "none",
    }
)


def _folded(value: str) -> str:
    return re.sub(r"[._-]", "", value).casefold()


def username_is_reserved(value: str) -> bool:
    folded = _folded(value)
    return folded in RESERVED_USERNAMES or folded.startswith("interkanect")


@deconstructible
class UsernameRulesValidator:
    """Length, characters and reserved names: the rules that need no database (a model field validator)."""

    def __call__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ValidationError("A username is text.", code="invalid")
        if len(value) < USERNAME_MIN_LENGTH:
            raise ValidationError(
                f"A username has at least {USERNAME_MIN_LENGTH} characters; {value!r} has {len(value)}.",
                code="username_too_short",
            )
        if len(value) > USERNAME_MAX_LENGTH:
            raise ValidationError(
                f"A username has at most {USERNAME_MAX_LENGTH} characters; this one has {len(value)}.",
                code="username_too_long",
            )
        if not _USERNAME_RE.match(value):
            raise ValidationError(
                "A username uses only letters (a-z, A-Z), digits, dots, hyphens and underscores, "
                "and starts with a letter or digit.",
                code="username_invalid",
            )
        if username_is_reserved(value):
            raise ValidationError(
                f"The username {value!r} is reserved (it could be read as InterKanect or PayPal speaking). "
                "Choose another.",
                code="username_reserved",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UsernameRulesValidator)


validate_username_rules = UsernameRulesValidator()


def username_validate(value: str, *, exclude_pk: int | None = None) -> str:
    """Every rule, the case-insensitive uniqueness included ("Ada" is taken when "ada" exists).

    ``exclude_pk`` is the account being renamed, which may keep (or re-case) its own name.
    Returns the username unchanged; raises ValidationError with a message a person can act on.
    """
    validate_username_rules(value)
    # get_user_model(): this module is imported by accounts.models (the field's validator), so no import back.
    taken = get_user_model()._base_manager.filter(username__iexact=value)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(f"The username {value!r} is already taken. Choose another.", code="username_taken")
    return value
