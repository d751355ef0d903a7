"""The payout calendar: the first Friday of January, then every other Friday of that year, moved off holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from django.conf import settings

FRIDAY = 4
FORTNIGHT = timedelta(days=14)


@dataclass(frozen=True)
class PayoutDay:
    date: date
    scheduled: date  # the Friday it stands for
    reason: str  # why it moved; empty when it did not
    causes: tuple[str, ...] = ()  # the holidays (or "a weekend") it moved off, in order

    @property
    def moved_because(self) -> str:
        """For people: "moved from Friday 1 January: New Year's Day" (empty when it did not move)."""
        if not self.causes:
            return ""
        friday = self.scheduled
        return f"moved from {friday:%A} {friday.day} {friday:%B}: " + "; ".join(dict.fromkeys(self.causes))

    def __str__(self) -> str:
        return f"{self.date.isoformat()}  {self.reason}".rstrip()


def _holiday_calendar(years: range) -> holidays.HolidayBase:
    return holidays.country_holidays(
        settings.PAYOUT_HOLIDAYS_COUNTRY,
        subdiv=settings.PAYOUT_HOLIDAYS_SUBDIVISION or None,
        years=years,
        observed=True,
    )


def _first_friday(year: int) -> date:
    january_first = date(year, 1, 1)
    return january_first + timedelta(days=(FRIDAY - january_first.weekday()) % 7)


def payout_days(year: int) -> list[PayoutDay]:
    """Every payout of `year` (its Fridays' sequence), each moved to the day before while it is a
    holiday, and again while that day is a holiday or a weekend. The first may move into December."""
    calendar = _holiday_calendar(range(year - 1, year + 1))
    days = []
    friday = _first_friday(year)
    while friday.year == year:
        day, why, causes = friday, [], []
        while day in calendar or (day != friday and day.weekday() >= 5):
            causes.append(calendar.get(day) or "a weekend")
            why.append(f"{day.isoformat()} is {causes[-1]}")
            day -= timedelta(days=1)
        reason = f"moved from {friday.isoformat()}: " + "; ".join(why) if why else ""
        days.append(PayoutDay(date=day, scheduled=friday, reason=reason, causes=tuple(causes)))
        friday += FORTNIGHT
    return days


def payout_days_between(start: date, end: date) -> list[PayoutDay]:
    """Every payout day from start to end, both included, in date order."""
    # Next year's first payout can move back into this year, so look one year further.
    found = [day for year in range(start.year, end.year + 2) for day in payout_days(year)]
    return sorted((day for day in found if start <= day.date <= end), key=lambda day: day.date)


def next_payout_day(after: date) -> PayoutDay:
    """The first payout day on or after `after`."""
    return payout_days_between(after, after + timedelta(days=40))[0]
