"""Working days on China's official calendar, for deadlines (policy time limits, 公示 periods).

A day is a working day when the admin's correction table (WorkingDayCorrection) says so; else
when chinese-calendar says so (weekends, public holidays and the make-up working days, 调休);
else, for a year the package does not know yet, when it is Monday to Friday. `year_is_known`
tells the admin and the queues which years rest on that last guess, so a district can enter
the announced holidays before they matter.

Counting convention, as offices count deadlines: the day a step starts is day 0; "within 5
working days" ends on the fifth working day after it (`add`), and an item's age is the number
of working days after its start up to and including today (`between`).

A `WorkCalendar` reads the corrections for its range in one query and answers from memory, so a
queue of hundreds of items costs one query, not one per item.
"""

import datetime as dt
from bisect import bisect_right
from functools import lru_cache

import chinese_calendar
from chinese_calendar import constants as _known_days

ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The first and last year chinese-calendar has the official holidays of."""
    years = {day.year for day in _known_days.holidays} | {day.year for day in _known_days.workdays}
    return min(years), max(years)


def year_is_known(year: int) -> bool:
    """True when the package knows `year`, or the correction table has entries for it."""
    first, last = package_years()
    if first <= year <= last:
        return True
    from relief.models import WorkingDayCorrection

    return WorkingDayCorrection.objects.filter(day__year=year).exists()


def _package_says(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


class WorkCalendar:
    """Working days between `first` and `last` (inclusive), corrections read once.

    Dates outside the range are still answered (one query each for their corrections), so a
    caller that guessed the range too small is slower, never wrong.
    """

    def __init__(self, first: dt.date, last: dt.date):
        from relief.models import WorkingDayCorrection

        if last < first:
            first, last = last, first
        self.first, self.last = first, last
        self._corrections = dict(
            WorkingDayCorrection.objects.filter(day__range=(first, last)).values_list(
                "day", "is_workday"
            )
        )
        # Ordinal numbers of the working days in range, for counting by bisection; the same as
        # a set for is_workday (chinese-calendar's own check is slow, and `add` asks per day).
        self._workdays = [
            (first + ONE_DAY * i).toordinal()
            for i in range((last - first).days + 1)
            if self._in_range_is_workday(first + ONE_DAY * i)
        ]
        self._workday_set = frozenset(self._workdays)

    @classmethod
    def around(cls, start: dt.date, *, days_after: int = 400) -> "WorkCalendar":
        return cls(start, start + dt.timedelta(days=days_after))

    def _in_range_is_workday(self, day: dt.date) -> bool:
        corrected = self._corrections.get(day)
        return _package_says(day) if corrected is None else corrected

    def is_workday(self, day: dt.date) -> bool:
        if self.first <= day <= self.last:
            return day.toordinal() in self._workday_set
        return is_workday(day)

    def nth_before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day before `day` (n >= 1; `day` itself not counted).

        `add(start, n) < day` exactly when `start < nth_before(day, n)`.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        found, left = day, n
        while left:
            found -= ONE_DAY
            if self.is_workday(found):
                left -= 1
        return found

    def add(self, start: dt.date, workdays: int) -> dt.date:
        """The `workdays`-th working day after `start` (0: `start` itself)."""
        if workdays < 0:
            raise ValueError("workdays must not be negative")
        day, left = start, workdays
        while left:
            day += ONE_DAY
            if self.is_workday(day):
                left -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        if end <= start:
            return 0
        if self.first <= start and end <= self.last:
            return bisect_right(self._workdays, end.toordinal()) - bisect_right(
                self._workdays, start.toordinal()
            )
        day, count = start, 0
        while day < end:
            day += ONE_DAY
            count += self.is_workday(day)
        return count


def is_workday(day: dt.date) -> bool:
    from relief.models import WorkingDayCorrection

    corrected = (
        WorkingDayCorrection.objects.filter(day=day).values_list("is_workday", flat=True).first()
    )
    return _package_says(day) if corrected is None else corrected


def add_workdays(start: dt.date, workdays: int) -> dt.date:
    """The deadline `workdays` working days after `start`."""
    return WorkCalendar.around(start, days_after=workdays * 3 + 30).add(start, workdays)


def workdays_between(start: dt.date, end: dt.date) -> int:
    """How many working days have passed from `start` to `end`."""
    return WorkCalendar(start, end).between(start, end)
