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


# --- The cases the rule must get right, by name ---


def test_2027_has_27_payout_days_and_the_first_is_paid_on_31_december_2026():
    days = payout_days(2027)
    assert [day.date for day in days] == [
        date(2026, 12, 31),  # Friday 1 January 2027 is New Year's Day: the day before
        date(2027, 1, 15),
        date(2027, 1, 29),
        date(2027, 2, 12),
        date(2027, 2, 26),
        date(2027, 3, 12),
        date(2027, 3, 26),
        date(2027, 4, 9),
        date(2027, 4, 23),
        date(2027, 5, 7),
        date(2027, 5, 21),
        date(2027, 6, 4),
        date(2027, 6, 17),  # Friday 18 June: Juneteenth observed (the 19th is a Saturday)
        date(2027, 7, 2),  # 4 July is a Sunday, observed Monday 5 July: no move
        date(2027, 7, 16),
        date(2027, 7, 30),
        date(2027, 8, 13),
        date(2027, 8, 27),
        date(2027, 9, 10),
        date(2027, 9, 24),
        date(2027, 10, 8),
        date(2027, 10, 22),
        date(2027, 11, 5),
        date(2027, 11, 19),
        date(2027, 12, 3),
        date(2027, 12, 17),
        date(2027, 12, 30),  # Friday 31 December: New Year's Day 2028 observed
    ]
    assert len(days) == 27
    assert days[0].moved_because == "moved from Friday 1 January: New Year's Day"


def test_juneteenth_and_independence_day_observed_on_a_friday_move_the_payout():
    by_friday = {day.scheduled: day for day in payout_days(2027)}
    assert by_friday[date(2027, 6, 18)].date == date(2027, 6, 17)
    assert "Juneteenth" in by_friday[date(2027, 6, 18)].moved_because
    # 4 July 2020 was a Saturday, observed Friday 3 July: a payout Friday that year.
    moved = {day.scheduled: day for day in payout_days(2020)}[date(2020, 7, 3)]
    assert moved.date == date(2020, 7, 2) and "Independence Day" in moved.moved_because


def test_another_country_from_settings_moves_payouts_off_its_holidays(settings):
    settings.PAYOUT_HOLIDAYS_COUNTRY = "GB"
    by_friday = {day.scheduled: day for day in payout_days(2027)}
    # Good Friday 2027 is 26 March, a payout Friday; Juneteenth is no UK holiday.
    assert by_friday[date(2027, 3, 26)].date == date(2027, 3, 25)
    assert "Good Friday" in by_friday[date(2027, 3, 26)].moved_because
    assert by_friday[date(2027, 6, 18)].date == date(2027, 6, 18)
    assert payout_days(2027)[0].date == date(2026, 12, 31)  # New Year's Day is a UK holiday too


@pytest.mark.parametrize(
    "name,value,error",
    [
        ("PAYOUT_HOLIDAYS_COUNTRY", "XX", "payouts.E001"),
        ("PAYOUT_HOLIDAYS_SUBDIVISION", "ZZ", "payouts.E001"),
        ("PAYOUT_TIME_ZONE", "Mars/Olympus", "payouts.E002"),
    ],
)
def test_an_unknown_country_or_time_zone_is_a_system_check_error_not_a_traceback(settings, name, value, error):
    from django.core.checks import Error, run_checks

    setattr(settings, name, value)
    found = [message for message in run_checks() if message.id == error]
    assert len(found) == 1 and isinstance(found[0], Error) and value in found[0].msg
    settings.PAYOUT_HOLIDAYS_COUNTRY, settings.PAYOUT_HOLIDAYS_SUBDIVISION = "US", ""
    settings.PAYOUT_TIME_ZONE = "America/New_York"
    assert not [m for m in run_checks() if m.id.startswith("payouts.E")]
