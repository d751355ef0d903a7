"""The SME dashboard's line about the next payout: when, and why it will not pay them (if it will not)."""

from __future__ import annotations

from django import template

from payouts.runs import payout_today
from payouts.selectors import Earnings, sme_earnings

register = template.Library()


@register.simple_tag
def sme_next_payout(profile) -> Earnings:
    return sme_earnings(profile=profile, today=payout_today(), history=0)
