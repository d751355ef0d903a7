"""Template helpers for consultation pages, lists and e-mails: prices, local times, links. They only format:
the views gather what a page shows."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

from payouts.templatetags.money import money
from sessions_app import selectors
from sessions_app.models import Consultation

register = template.Library()


@register.filter
def price_label(consultation: Consultation) -> str:
    return "Free" if consultation.is_free else money(consultation.price_cents, consultation.currency)


@register.simple_tag
def local_time(moment: datetime | None, empty: str = "Not scheduled"):
    """A <time> in UTC that static/js/local-time.js rewrites in the viewer's own time zone."""
    if moment is None:
        return empty
    utc = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local-time>{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%a %d %b %Y, %H:%M UTC"),
    )


@register.simple_tag(takes_context=True)
def join_url(context, consultation: Consultation) -> str:
    request = context.get("request")
    path = consultation.get_absolute_url()
    return request.build_absolute_uri(path) if request is not None else path


@register.filter
def can_cancel(consultation: Consultation, user) -> bool:
    return selectors.consultation_can_cancel(consultation=consultation, user=user)
