"""The payout calendar SMEs are promised: first Friday of January, every other Friday, off holidays."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from payouts.calendar import next_payout_day, payout_days, payout_days_between


def test_first_payout_is_the_first_friday_of_january_then_every_other_friday():
    days = [day.date for day in payout_days(2026)]
    assert days[:3] == [date(2026, 1, 2), date(2026, 1, 16), date(2026, 1, 30)]
    assert all(day.weekday() in (3, 4) for day in days)  # Friday, or Thursday when moved
    assert days[-1] == date(2026, 12, 18)
    assert len(days) == 26


def test_the_sequence_restarts_each_year():
    # 2026's fortnights would land on 2027-01-01; 2027 starts again from its own first Friday.
    assert payout_days(2027)[0].scheduled == date(2027, 1, 1)
    assert payout_days(2028)[0].scheduled == date(2028, 1, 7)


def test_a_holiday_moves_the_payout_to_the_day_before():
    by_friday = {day.scheduled: day for day in payout_days(2026)}
    assert by_friday[date(2026, 7, 3)].date == date(2026, 7, 2)  # Independence Day (observed)
    assert "Independence Day" in by_friday[date(2026, 7, 3)].reason
    assert by_friday[date(2026, 6, 19)].date == date(2026, 6, 18)  # Juneteenth
    assert by_friday[date(2026, 1, 16)].date == date(2026, 1, 16) and by_friday[date(2026, 1, 16)].reason == ""


def test_new_years_day_moves_the_first_payout_into_the_previous_year():
    first = payout_days(2027)[0]
    assert first.date == date(2026, 12, 31)
    assert first.date in [day.date for day in payout_days_between(date(2026, 12, 1), date(2026, 12, 31))]


def test_a_move_skips_back_again_while_the_day_before_is_a_holiday_too(settings):
    # Norway: Good Friday and Maundy Thursday are both holidays; 2027-03-26 is a payout Friday.
    settings.PAYOUT_HOLIDAYS_COUNTRY = "NO"
    moved = {day.scheduled: day for day in payout_days(2027)}[date(2027, 3, 26)]
    assert moved.date == date(2027, 3, 24)
    assert "Good Friday" in moved.reason and "Maundy Thursday" in moved.reason


def test_next_payout_day_is_on_or_after_the_date():
    assert next_payout_day(date(2026, 7, 1)).date == date(2026, 7, 2)
    assert next_payout_day(date(2026, 7, 2)).date == date(2026, 7, 2)
    assert next_payout_day(date(2026, 7, 3)).date == date(2026, 7, 17)


def test_payout_schedule_command_prints_one_iso_date_a_line(capsys):
    call_command("payout_schedule", "--from", "2026-12-01", "--to", "2027-01-20")
    lines = capsys.readouterr().out.splitlines()
    assert [line[:10] for line in lines] == ["2026-12-04", "2026-12-18", "2026-12-31", "2027-01-15"]
    assert "New Year's Day" in lines[2]


@pytest.mark.parametrize(
    "start,end,message",
    [("2026-13-01", "2027-01-01", "is not a date"), ("2027-01-01", "2026-01-01", "swap them")],
)
def test_payout_schedule_command_explains_bad_input(start, end, message):
    with pytest.raises(CommandError, match=message):
        call_command("payout_schedule", "--from", start, "--to", end)
