"""Forms for the SME profile, closing an account, correcting a username and logging in."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from django import forms

from .models import SMEProfile, User


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
