"""Template tag for the SME dashboard: where the SME stands against the free-session limits."""

from django import template

from sessions_app.policy import FreeSessionStanding, sme_free_session_standing

register = template.Library()


@register.simple_tag
def free_session_standing(user) -> FreeSessionStanding | None:
    # A tag, so the dashboard view (accounts) needs no change to show the policy's figures.
    if not getattr(user, "is_authenticated", False) or not user.is_sme:
        return None
    return sme_free_session_standing(user=user)
