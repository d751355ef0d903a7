"""Two requests at the same moment: two clients claiming one link, one form submitted twice.

Each thread has its own database connection and its own transaction, as two daphne workers would.
"""

import threading

import pytest
from django.db import connection, connections

from accounts.models import AuditEvent
from sessions_app.models import Consultation
from sessions_app.services import ConsultationError, consultation_claim, consultation_create
from tests.factories import make_client, make_consultation, make_sme

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrent]


def run_at_once(*calls):
    """Start every call at the same instant, each in its own thread (own connection); return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each one got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite lets one writer in at a time (BEGIN IMMEDIATE locks the whole file), so two claims never "
    "overlap there and this race would prove nothing; it runs on PostgreSQL (the suite's second run).",
)
@pytest.mark.parametrize("attempt", range(5))
def test_two_clients_claiming_at_once_one_wins_the_other_is_told(attempt):
    consultation = make_consultation(price_cents=0)
    first, second = make_client(), make_client()
    # Each request loaded the consultation before either claim: both saw it free.
    a, b = Consultation.objects.get(pk=consultation.pk), Consultation.objects.get(pk=consultation.pk)
    results = run_at_once(
        lambda: consultation_claim(consultation=a, client=first),
        lambda: consultation_claim(consultation=b, client=second),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ConsultationError) and errors[0].code == "taken", results
    winner = first if not isinstance(results[0], Exception) else second
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.client == winner and stored.state == Consultation.State.READY
    assert AuditEvent.objects.filter(event="consultation.claimed", target_id=str(consultation.pk)).count() == 1
    assert AuditEvent.objects.filter(event="consultation.ready", target_id=str(consultation.pk)).count() == 1


def test_the_same_client_in_two_tabs_claims_once():
    consultation = make_consultation(price_cents=1500)
    client = make_client()
    a, b = Consultation.objects.get(pk=consultation.pk), Consultation.objects.get(pk=consultation.pk)
    results = run_at_once(
        lambda: consultation_claim(consultation=a, client=client),
        lambda: consultation_claim(consultation=b, client=client),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert AuditEvent.objects.filter(event="consultation.claimed", target_id=str(consultation.pk)).count() == 1
    assert Consultation.objects.get(pk=consultation.pk).client == client


def test_one_create_form_submitted_twice_at_once_makes_one_consultation():
    sme = make_sme()

    def submit():
        return consultation_create(sme=sme, title="Once", agreed_minutes=30, price_cents=0, creation_key="form-x")

    results = run_at_once(submit, submit)
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0].pk == results[1].pk
    assert Consultation.objects.filter(sme=sme).count() == 1
