"""The case list's rows (cards on a phone) show what a case stands at now (issue 13.10)."""

import re

import pytest
from django.urls import reverse

from tests.factories import file_case, walk


def _row_of(html: str, reference: str) -> str:
    row = re.search(r"<tr>(?:(?!</tr>).)*?" + re.escape(reference) + r".*?</tr>", html, re.S)
    assert row, reference
    return row.group(0)


@pytest.mark.parametrize(
    ("state", "label", "shown"),
    [
        ("draft", "申请金额", "¥6,000.00"),
        ("submitted", "申请金额", "¥6,000.00"),
        ("recommended", "建议救助金额", "¥4,000.00"),
        ("approved", "批准金额", "¥4,000.00"),
        ("disbursed", "已发放金额", "¥4,000.00"),
        ("closed", "已发放金额", "¥4,000.00"),
    ],
)
def test_a_case_shows_the_amount_of_its_stage(client, people, well_funded, state, label, shown):
    app = walk(
        file_case(people.alice, amount="6000.00"),
        state,
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="4000.00",
    )
    client.force_login(people.alice)
    html = client.get(reverse("relief:case_list")).content.decode()
    row = _row_of(html, app.reference)
    cell = re.search(r'<td class="num">(.*?)</td>', row, re.S).group(1)
    assert label in cell and shown in cell
    if state not in ("draft", "submitted"):
        assert "6,000" not in row  # the request is on the case page, not the card
