"""Forms for sign-up extras, the SME profile and closing an account."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from django import forms

from .models import SMEProfile, User
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
        from .services import user_register

        user_register(
            user=user,
            role=self.cleaned_data["role"],
            display_name=self.cleaned_data.get("display_name", ""),
            headline=self.cleaned_data.get("headline", ""),
        )


class SMEProfileForm(forms.ModelForm):
    class Meta:
        model = SMEProfile
        fields = ["display_name", "headline"]
        labels = {"headline": "Your expertise in one line"}


class CloseAccountForm(forms.Form):
    confirm_username = forms.CharField(
        label="Type your username to confirm", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm_username(self) -> str:
        value = self.cleaned_data["confirm_username"]
        if value != self.user.username:
            raise forms.ValidationError(f"Type {self.user.username} exactly to close this account.")
        return value


class CorrectUsernameForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or e-mail"
        self.fields["remember"].label = "Keep me logged in on this device"
