"""The fields allauth's sign-up form gets on top of its own (ACCOUNT_SIGNUP_FORM_CLASS).

A module of its own: allauth.account.forms imports it while it is being built, so it must not import
allauth.account.forms back (accounts.forms does, for the login form).
"""

from __future__ import annotations

from django import forms

from .models import User
from .services import user_register
from .usernames import USERNAME_HELP_TEXT


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up form gets on top of e-mail, username and password."""

    role = forms.ChoiceField(
        label="I am signing up as",
        choices=[
            (User.Role.SME, "An expert (SME): I sell consultations"),
            (User.Role.CLIENT, "A client: I book consultations"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you are an expert (SME) or a client."},
    )
    display_name = forms.CharField(
        label="Display name (SMEs)",
        max_length=80,
        required=False,
        help_text="Shown to your clients. You can change it at any time.",
    )
    headline = forms.CharField(
        label="Your expertise in one line (SMEs)",
        max_length=120,
        required=False,
        help_text="For example: Tax advice for freelancers in the US.",
    )

    # Filled from the browser (static/js/timezone-field.js), so e-mails show times in the person's own zone.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-timezone-field": ""}))

    field_order = ["role", "email", "username", "password1", "password2", "display_name", "headline"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "username" in self.fields:  # allauth's field, declared on its form above this one
            # Next to the field it is about (and read out with it), not at the foot of the form.
            self.fields["username"].help_text = (
                f"{USERNAME_HELP_TEXT} Choose it with care: you can correct it until you activate your account, "
                "and never after."
            )

    def signup(self, request, user: User) -> None:
        user_register(
            user=user,
            role=self.cleaned_data["role"],
            display_name=self.cleaned_data.get("display_name", ""),
            headline=self.cleaned_data.get("headline", ""),
            time_zone=self.cleaned_data.get("time_zone", ""),
        )
