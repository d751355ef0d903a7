"""The admin as staff meet it: sections told apart, the decision forms styled like the rest."""

import re

import pytest

from accounts.models import User
from tests.factories import PASSWORD
from tests.sessions_app.policy_helpers import default_limits, make_flagged_sme, make_reviewer  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db


def test_no_two_admin_sections_share_a_name(client):
    client.force_login(User.objects.create_superuser("site-ops", "ops@example.com", PASSWORD))
    page = client.get("/admin/").content.decode()
    captions = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', page)
    assert "Users and audit" in captions and "Accounts" in captions  # ours, and allauth's e-mail addresses
    assert len(captions) == len(set(captions)), captions


def test_the_disqualify_form_is_laid_out_like_the_admins_own_forms(client):
    _sme, case = make_flagged_sme()
    client.force_login(make_reviewer())
    page = client.get(f"/admin/sessions_app/freesessionreviewcase/{case.pk}/disqualify/").content.decode()
    assert "/static/admin/css/forms.css" in page and "/static/css/admin.css" in page
