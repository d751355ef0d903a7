"""Forms for money pages: the PayPal e-mail an SME types when Log in with PayPal is not available."""

from __future__ import annotations

from django import forms


class PayPalEmailForm(forms.Form):
    email = forms.EmailField(
        label="PayPal e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="The address you log in to PayPal with. Payouts are sent to it.",
    )
    email_again = forms.EmailField(
        label="The same address again",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        first, second = data.get("email"), data.get("email_again")
        if first and second and first.strip().lower() != second.strip().lower():
            self.add_error("email_again", "The two addresses differ. Type your PayPal address the same way twice.")
        return data
