"""Resident ID numbers (GB 11643-1999): checksum, length, characters, birth date, gender;
and the masks public notices use for names, ID numbers and bank cards."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from relief import services
from relief.idcard import (
    birth_date_of,
    check_digit,
    gender_of,
    mask_card,
    mask_id_number,
    mask_name,
    normalize_id_number,
    validate_id_number,
)
from relief.models import Worker


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def an_x_number() -> str:
    """A valid number whose check character is X (found, not hard-coded)."""
    for seq in range(1000):
        first17 = f"44068219900101{seq:03d}"
        if check_digit(first17) == "X":
            return first17 + "X"
    raise AssertionError("no X check digit in range")


def replace_check(number: str) -> str:
    """The same number with a wrong check character."""
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


# --- validation -------------------------------------------------------------------------


def test_the_published_example_is_valid():
    # The standard's own example (a Beijing number) ends in X.
    assert check_digit("11010519491231002") == "X"
    validate_id_number("11010519491231002X")


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(with_check("44068219900101123"), id="foshan-nanhai"),
        pytest.param(with_check("44060519800517001"), id="foshan-chancheng"),
        pytest.param(an_x_number(), id="ends-in-X"),
        pytest.param(an_x_number().lower(), id="ends-in-lowercase-x"),
        pytest.param(" 4406 8219 9001 0112 3" + check_digit("44068219900101123"), id="spaces"),
        pytest.param(with_check("44068220000229123"), id="leap-day-2000"),
        pytest.param(with_check("44068219000101123"), id="born-1900"),
    ],
)
def test_good_numbers_are_accepted(number):
    validate_id_number(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        pytest.param(replace_check(with_check("44068219900101123")), "id_checksum", id="checksum"),
        pytest.param(replace_check(an_x_number()), "id_checksum", id="X-where-digit-expected"),
        pytest.param(
            with_check("44068219900101123")[:16] + "9" + check_digit("44068219900101123"),
            "id_checksum",
            id="one-digit-mistyped",
        ),
        pytest.param(with_check("44068219900101123")[:17], "id_length", id="17-chars"),
        pytest.param(with_check("44068219900101123") + "0", "id_length", id="19-chars"),
        pytest.param("440682900101123", "id_length", id="old-15-digit"),
        pytest.param("", "id_length", id="empty"),
        pytest.param("44068219900101A23X", "id_chars", id="letter-inside"),
        pytest.param("4406821990010112Y3", "id_chars", id="letter-Y-inside"),
        pytest.param("44068219900101123Y", "id_chars", id="Y-as-check"),
        pytest.param("44068219900101-234", "id_chars", id="dash"),
        pytest.param(with_check("44068219900230123"), "id_birth", id="february-30"),
        pytest.param(with_check("44068219900229123"), "id_birth", id="february-29-1990"),
        pytest.param(with_check("44068219901301123"), "id_birth", id="month-13"),
        pytest.param(with_check("44068219900100123"), "id_birth", id="day-0"),
        pytest.param(with_check("44068218991231123"), "id_birth", id="born-1899"),
        pytest.param(with_check("44068221000101123"), "id_birth", id="born-2100"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as info:
        validate_id_number(number)
    assert info.value.code == code


def born_on(day: dt.date) -> str:
    return with_check(f"440682{day:%Y%m%d}123")


def test_born_today_is_accepted():
    # Dates are taken when the test runs, in the project's time zone (Asia/Shanghai):
    # computed at collection they could fall on the other side of midnight.
    validate_id_number(born_on(timezone.localdate()))


def test_born_tomorrow_is_refused():
    with pytest.raises(ValidationError) as info:
        validate_id_number(born_on(timezone.localdate() + dt.timedelta(days=1)))
    assert info.value.code == "id_birth"


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()),
    area=st.integers(min_value=110000, max_value=659999),
    seq=st.integers(min_value=0, max_value=999),
    wrong=st.sampled_from("0123456789X"),
)
def test_exactly_one_check_character_is_right(born, area, seq, wrong):
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    validate_id_number(first17 + check_digit(first17))
    if wrong != check_digit(first17):
        with pytest.raises(ValidationError):
            validate_id_number(first17 + wrong)


def test_normalizing_strips_spaces_and_upper_cases_x():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert normalize_id_number("110105 19491231 002X") == "11010519491231002X"
    assert normalize_id_number(None) == ""


def test_workers_are_stored_with_the_normalized_number(people):
    worker = services.worker_create(
        user=people.alice, data={"name": "梁志明", "id_number": "110105 19491231 002x"}
    )
    worker.refresh_from_db()
    assert worker.id_number == "11010519491231002X"


def test_a_worker_with_a_bad_number_is_refused(people):
    with pytest.raises(ValidationError) as info:
        services.worker_create(
            user=people.alice, data={"name": "梁志明", "id_number": "110105194912310021"}
        )
    assert "id_number" in info.value.message_dict
    assert not Worker.objects.exists()


def test_the_database_refuses_a_number_of_the_wrong_shape(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Worker.objects.create(name="梁志明", id_number="11010519491231002x", union=tree.xq_s01)


# --- what a number tells ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "born", "gender"),
    [
        pytest.param("11010519491231002X", dt.date(1949, 12, 31), "F", id="example-woman"),
        pytest.param(with_check("44068219800517011"), dt.date(1980, 5, 17), "M", id="man"),
        pytest.param(with_check("44068220000229008"), dt.date(2000, 2, 29), "F", id="leap-day"),
    ],
)
def test_birth_date_and_gender(number, born, gender):
    assert birth_date_of(number) == born
    assert gender_of(number) == gender


def test_a_worker_shows_birth_date_and_gender(db):
    worker = Worker(name="梁志明", id_number=with_check("44068219800517011"))
    assert worker.birth_date == dt.date(1980, 5, 17)
    assert worker.gender == "M"
    assert str(worker.get_gender_display()) in {"male", "男"}


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("", id="empty"),
        pytest.param("4406", id="short"),
        pytest.param("4406821990023012", id="february-30"),
        pytest.param("440682199a0101123X", id="letter-in-the-date"),
    ],
)
def test_no_birth_date_from_a_broken_number(number):
    assert birth_date_of(number) is None


@pytest.mark.parametrize("number", ["", "4406", "4406821990010112", "4406821990010112aX"])
def test_no_gender_from_a_number_without_a_17th_digit(number):
    assert gender_of(number) == ""


# --- masks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("440682199001011234", "440682********1234"),
        ("11010519491231002X", "110105********002X"),
        ("", ""),
        ("1234567890", "**********"),
        ("12345", "*****"),
    ],
)
def test_mask_id_number_keeps_the_first_6_and_last_4(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("梁志明", "梁*明"),
        ("梁明", "梁*"),
        ("欧阳志明", "欧**明"),
        ("欧阳", "欧*"),
        ("梁", "梁"),
        ("", ""),
        (None, ""),
        ("  梁志明 ", "梁*明"),
        ("阿依古丽·买买提", "阿******提"),
    ],
)
def test_mask_name_keeps_the_first_and_last_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("card", "masked"),
    [
        ("6228480000000000001", "**** 0001"),
        ("6228 4800 0000 0000 001", "**** 0001"),
        ("6217000000001234", "**** 1234"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_card_keeps_the_last_4(card, masked):
    assert mask_card(card) == masked


def test_a_worker_shows_masked_numbers_only(db):
    worker = Worker(name="梁志明", id_number="440682199001011234", bank_card="6228480000000000001")
    assert worker.masked_id_number == "440682********1234"
    assert worker.masked_card == "**** 0001"
    assert "19900101" not in str(worker)
    assert "440682********1234" in str(worker)
