"""The working-day calendar: China's official holidays and 调休, the admin's corrections."""

import datetime as dt

import pytest
from django.utils import timezone

from relief import workdays
from relief.models import Policy, WorkingDayCorrection
from relief.workdays import WorkCalendar, add_workdays, is_workday, workdays_between

D = dt.date


@pytest.mark.parametrize(
    "day, expected",
    [
        (D(2026, 9, 30), True),  # Wednesday before National Day
        (D(2026, 10, 1), False),  # 国庆节
        (D(2026, 10, 7), False),  # last day of the holiday, a Wednesday
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, a make-up working day (调休)
        (D(2026, 10, 11), False),  # plain Sunday
        (D(2026, 9, 20), True),  # Sunday, 调休 before the holiday
        (D(2026, 2, 16), False),  # 春节
        (D(2026, 2, 28), True),  # Saturday after the Spring Festival, 调休
    ],
)
def test_the_package_knows_holidays_and_make_up_days(db, day, expected):
    assert is_workday(day) is expected
    assert WorkCalendar(D(2026, 1, 1), D(2026, 12, 31)).is_workday(day) is expected


def test_a_deadline_counts_over_a_holiday_and_a_make_up_saturday(db):
    # Submitted on Tuesday 29 September 2026: the 30th is day 1; 1-7 October are off;
    # the 8th and 9th are days 2 and 3; Saturday the 10th is a working day (4); then the 12th.
    assert add_workdays(D(2026, 9, 29), 1) == D(2026, 9, 30)
    assert add_workdays(D(2026, 9, 29), 4) == D(2026, 10, 10)
    assert add_workdays(D(2026, 9, 29), 5) == D(2026, 10, 12)
    assert workdays_between(D(2026, 9, 29), D(2026, 10, 12)) == 5
    assert workdays_between(D(2026, 9, 29), D(2026, 10, 7)) == 1
    assert workdays_between(D(2026, 10, 12), D(2026, 9, 29)) == 0
    assert add_workdays(D(2026, 9, 29), 0) == D(2026, 9, 29)


def test_counting_inside_and_outside_the_loaded_range_agree(db):
    cal = WorkCalendar(D(2026, 9, 1), D(2026, 10, 31))
    for end in (D(2026, 10, 12), D(2026, 11, 20), D(2027, 1, 8)):
        slow = sum(
            is_workday(D(2026, 9, 29) + dt.timedelta(days=i + 1))
            for i in range((end - D(2026, 9, 29)).days)
        )
        assert cal.between(D(2026, 9, 29), end) == slow


def test_a_year_the_package_does_not_know_counts_monday_to_friday(db):
    assert not workdays.year_is_known(2031)
    assert is_workday(D(2031, 1, 1))  # a Wednesday: the guess, until the district enters it
    assert not is_workday(D(2031, 1, 4))  # Saturday
    assert add_workdays(D(2031, 1, 3), 1) == D(2031, 1, 6)


def test_a_correction_wins_over_the_package_and_the_guess(db):
    WorkingDayCorrection.objects.create(day=D(2031, 1, 1), is_workday=False, reason="元旦")
    WorkingDayCorrection.objects.create(day=D(2031, 1, 4), is_workday=True, reason="元旦调休")
    WorkingDayCorrection.objects.create(day=D(2026, 10, 9), is_workday=False, reason="更正")
    assert workdays.year_is_known(2031)
    assert not is_workday(D(2031, 1, 1))
    assert is_workday(D(2031, 1, 4))
    assert add_workdays(D(2030, 12, 31), 1) == D(2031, 1, 2)
    assert add_workdays(D(2026, 9, 29), 3) == D(2026, 10, 10)  # the 9th no longer counts
    assert workdays_between(D(2030, 12, 31), D(2031, 1, 6)) == 4  # 2nd, 3rd, 4th, 6th


def test_a_calendar_reads_its_corrections_in_one_query(db, django_assert_num_queries):
    WorkingDayCorrection.objects.create(day=D(2026, 10, 9), is_workday=False, reason="更正")
    with django_assert_num_queries(1):
        cal = WorkCalendar(D(2026, 1, 1), D(2026, 12, 31))
        ages = [
            cal.between(D(2026, 1, 1) + dt.timedelta(days=i), D(2026, 12, 31)) for i in range(300)
        ]
    assert ages[0] > ages[-1] >= 0


def test_policies_carry_deadlines_with_defaults(db):
    policy = Policy.objects.create(name="办法", effective_from=D(2031, 1, 1), max_per_payout="8000")
    assert (policy.review_workdays, policy.approval_workdays, policy.payment_workdays) == (10, 5, 5)


@pytest.mark.parametrize(
    "who, can_view, can_add",
    [("alice", False, False), ("carol", True, False), ("erin", True, True)],
)
def test_the_district_keeps_the_calendar(client, people, who, can_view, can_add):
    client.force_login(getattr(people, who))
    listing = client.get("/admin/relief/workingdaycorrection/")
    adding = client.post(
        "/admin/relief/workingdaycorrection/add/",
        {"day": "2027-02-06", "is_workday": "on", "reason": "春节调休"},
    )
    assert (listing.status_code == 200) is can_view
    assert WorkingDayCorrection.objects.filter(day=D(2027, 2, 6)).exists() is can_add
    if can_add:
        assert adding.status_code == 302
        assert WorkingDayCorrection.objects.get().changed_by == people.erin


def test_the_calendar_page_says_which_years_are_not_known(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: D(2026, 11, 30))
    client.force_login(people.erin)
    page = client.get("/admin/relief/workingdaycorrection/").content.decode()
    assert "2027 年的节假日尚未录入" in page and "2004" in page
    WorkingDayCorrection.objects.create(day=D(2027, 1, 1), is_workday=False, reason="元旦")
    page = client.get("/admin/relief/workingdaycorrection/").content.decode()
    assert "2027 年的节假日尚未录入" not in page
