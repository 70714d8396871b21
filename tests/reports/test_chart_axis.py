"""Chart axes: round steps (1, 2 or 5 x 10^n) from 0, and one unit on every tick (issue 13.9)."""

import random
import re
from decimal import Decimal

import pytest

from reports.charts import axis_ticks, bar_chart_svg
from reports.figures import Breakdown

LABEL = re.compile(r"^(\d+(?:\.\d+)?)(万?)$")


def _maxima():
    """Every order of magnitude from 3 yuan to 100 million, its edges and random values."""
    rng = random.Random(13)
    values = set()
    for exponent in range(0, 9):
        base = Decimal(10) ** exponent
        for mantissa in ("1", "1.01", "1.5", "2", "2.01", "2.5", "3", "4.99", "5", "5.01", "7.5"):
            values.add(base * Decimal(mantissa))
        for _ in range(40):
            values.add((base * Decimal(rng.uniform(1, 10))).quantize(Decimal("0.01")))
    values |= {Decimal("25000"), Decimal("75000"), Decimal("463000"), Decimal("35000")}
    return sorted(v for v in values if v >= 3)


MAXIMA = _maxima()


def _value_of(label: str) -> Decimal:
    number, wan = LABEL.match(label).groups()
    return Decimal(number) * (10000 if wan else 1)


def test_the_values_cover_many_ranges():
    assert len(MAXIMA) > 400
    assert MAXIMA[0] < 10 and MAXIMA[-1] > 10**8


def test_ticks_are_round_steps_from_zero_in_one_unit():
    for maximum in MAXIMA:
        _check_axis(maximum)


def _check_axis(maximum):
    axis = axis_ticks(maximum)
    digits = axis.step.normalize().as_tuple().digits
    assert digits in {(1,), (2,), (5,)}, (maximum, axis.step)  # 1, 2 or 5 times a power of ten
    assert axis.ticks[0] == 0
    assert all(b - a == axis.step for a, b in zip(axis.ticks, axis.ticks[1:], strict=False))
    # The axis covers the largest bar, and no more than one step above it.
    assert axis.top >= maximum > axis.top - axis.step
    assert 3 <= len(axis.ticks) - 1 <= 5, (maximum, axis.ticks)
    # One unit on every tick but 0, and each label reads back as its tick's value.
    units = {LABEL.match(label).group(2) for label in axis.labels[1:]}
    assert len(units) == 1, axis.labels
    assert units == ({"万"} if axis.top >= 10000 else {""})
    assert [_value_of(label) for label in axis.labels] == axis.ticks
    # The same number of decimals on every tick (0.5万, 1.0万, 1.5万).
    decimals = {len(label.rstrip("万").partition(".")[2]) for label in axis.labels[1:]}
    assert len(decimals) == 1, axis.labels


@pytest.mark.parametrize(
    ("maximum", "labels"),
    [
        (Decimal("25000"), ["0", "0.5万", "1.0万", "1.5万", "2.0万", "2.5万"]),
        (Decimal("75000"), ["0", "2万", "4万", "6万", "8万"]),
        (Decimal("6000"), ["0", "2000", "4000", "6000"]),
        (Decimal("463000"), ["0", "10万", "20万", "30万", "40万", "50万"]),
        (Decimal("0"), ["0", "1", "2", "3", "4", "5"]),
    ],
)
def test_examples_as_a_reader_sees_them(maximum, labels):
    assert axis_ticks(maximum).labels == labels


def test_the_chart_draws_those_ticks():
    rows = [Breakdown("1", "1月", 3, 3, Decimal("18750")), Breakdown("2", "2月", 1, 1, ZERO)]
    svg = bar_chart_svg(rows, title="按月发放金额")
    ticks = re.findall(r'class="tick">([^<]*)<', svg)
    assert ticks == ["0", "0.5万", "1.0万", "1.5万", "2.0万"]
    assert "6250" not in svg and "1.88万" in svg  # the bar keeps its own amount


ZERO = Decimal("0")
