import pytest

from tests.factories import PATH, case_in_state


@pytest.mark.parametrize("state", list(PATH))
def test_every_state_is_reachable_through_the_services(people, state):
    app = case_in_state(state, caseworker=people.alice, reviewer=people.carol, officer=people.erin)
    assert app.state == state
    assert app.reference.startswith("XQ-")
