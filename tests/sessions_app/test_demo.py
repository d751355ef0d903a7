"""The run command's demo data: a free consultation whose room the demo SME and demo client can both open."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from sessions_app.models import Consultation
from sessions_app.selectors import room_admission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # The demo data exists for `scripts/dev.py run`, which serves with DEBUG on (the test runner turns it off).
    settings.DEBUG = True


def test_seed_demo_refuses_under_production_settings_and_creates_no_login(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("seed_demo")
    assert not User.objects.filter(username__startswith="demo-").exists()


def test_seed_demo_opens_one_room_for_demo_sme_and_demo_client_and_is_safe_to_repeat(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    consultation = Consultation.objects.get()
    sme, client = User.objects.get(username="demo-sme"), User.objects.get(username="demo-client")
    assert (consultation.sme, consultation.client, consultation.price_cents) == (sme, client, 0)
    for user in (sme, client):
        assert room_admission(token=consultation.token, user=user).allowed
    assert consultation.get_absolute_url() in capsys.readouterr().out


def test_seed_demo_opens_a_new_one_when_the_demo_consultation_was_completed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    Consultation.objects.update(state=Consultation.State.COMPLETED)
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert Consultation.objects.filter(state=Consultation.State.READY).count() == 1
