"""Issue 13, item 16: the admin offers each user only what they can do.

A superuser administers people, unions and configuration and has no case role: the services
refuse them every payout, batch, fund income, campaign, collection and hardship file, so the
admin must not offer 增加 for those (before the fix it did, with an empty list of cases on the
payout form). The roles that may add still get the form, with their cases to choose from.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from relief.models import Disbursement, PaymentBatch
from tests.factories import case_in_state

# What an administrator adds in the admin: people, unions and configuration.
ADMINISTRATORS_ADD = {
    "unions.user",
    "unions.union",
    "auth.group",
    "relief.policy",
    "relief.hardshipcategory",
    "relief.workingdaycorrection",  # the national calendar: configuration
    "notifications.grouprobot",  # a union's chat robot: configuration
}


def test_a_superuser_may_add_only_people_unions_and_configuration(people):
    request = RequestFactory().get("/admin/")
    request.user = people.root
    offered = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_add_permission(request)
    }
    assert offered == ADMINISTRATORS_ADD


def test_the_superusers_admin_shows_no_add_for_payouts_and_batches(client, people):
    client.force_login(people.root)
    index = client.get(reverse("admin:index")).content.decode()
    for model in (Disbursement, PaymentBatch):
        opts = model._meta
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert add not in index
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200
        assert add not in changelist.content.decode()
        assert client.get(add).status_code == 403


@pytest.mark.parametrize(
    ("who", "model", "may_add"),
    [
        ("erin", Disbursement, True),
        ("erin", PaymentBatch, True),
        ("carol", Disbursement, False),
        ("carol", PaymentBatch, False),
    ],
)
def test_add_follows_the_case_role(client, people, who, model, may_add):
    client.force_login(getattr(people, who))
    opts = model._meta
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    index = client.get(reverse("admin:index")).content.decode()
    assert (add in index) is may_add


def test_the_officers_payout_form_lists_the_approved_cases(client, people, well_funded):
    case = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.erin)
    response = client.get(reverse("admin:relief_disbursement_add"))
    assert response.status_code == 200
    choices = [value for value, _label in response.context["form"].fields["application"].choices]
    assert case.pk in [getattr(v, "value", v) for v in choices]
