"""Who may read and change a worker's record, and where a case's money goes.

The rule: a worker's record (identity, contact, bank account, household) is changed only by
users whose scope holds the worker's union. A caseworker elsewhere who files for that worker
proposes a new phone or payout account with the case; the verifying town reviewer confirms it.
A case's payout account is fixed at approval and moved only by an audited district step.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import AuditEntry, ProposedChange
from relief.services.batches import bank_file
from relief.services.workers import workers_editable_by
from tests.factories import WorkerFactory, case_in_state, file_case, make_id_number
from tests.relief.test_views import intake_post, management, member

DL_CARD = "6228480000000777001"
NEW_CARD = "6217000000000123456"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dl_worker(people):
    """梁 held by 大沥's 凤池村工会 (bob's union), with a household member's ID on file."""
    worker = WorkerFactory(
        union=people.bob.union,
        phone="13700000000",
        address="大沥镇凤池村 3 号",
        employer="大沥铝材厂",
        bank_card=DL_CARD,
    )
    services.household_replace(
        worker=worker,
        user=people.bob,
        members=[{"relation": "母亲", "name": "陈桂英", "id_number": make_id_number(401)}],
    )
    return worker


def html(response) -> str:
    return response.content.decode()


# --- who may change a worker -------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "holds_xq_worker", "holds_dl_worker"),
    [
        ("alice", True, False),  # caseworker of XQ-S01
        ("bob", False, True),  # caseworker of DL-V01
        ("carol", True, False),  # town reviewer of 西樵
        ("dave", False, True),  # town reviewer of 大沥
        ("erin", True, True),  # district officer
    ],
)
def test_only_the_holding_unions_chain_may_change_a_worker(
    people, dl_worker, user, holds_xq_worker, holds_dl_worker
):
    xq_worker = WorkerFactory(union=people.alice.union)
    # A case in progress filed elsewhere gives no hold on the record.
    file_case(people.alice, dl_worker)
    editable = set(workers_editable_by(getattr(people, user)).values_list("pk", flat=True))
    assert (xq_worker.pk in editable, dl_worker.pk in editable) == (
        holds_xq_worker,
        holds_dl_worker,
    )


def test_filing_for_a_worker_gives_no_hold_on_the_record(people, dl_worker):
    file_case(people.alice, dl_worker)
    with pytest.raises(OutOfScope):
        services.worker_update(worker=dl_worker, user=people.alice, data={"bank_card": NEW_CARD})
    with pytest.raises(OutOfScope):
        services.household_replace(worker=dl_worker, user=people.carol, members=[])
    dl_worker.refresh_from_db()
    assert dl_worker.bank_card == DL_CARD
    assert dl_worker.household.count() == 1


def test_the_intake_for_a_worker_held_elsewhere_shows_no_record_and_changes_nothing(
    client, people, dl_worker
):
    client.force_login(people.alice)
    page = html(
        client.post(
            reverse("relief:case_new"), {"step": "lookup", "id_number": dl_worker.id_number}
        )
    )
    for secret in (DL_CARD, DL_CARD[-4:], "13700000000", "大沥镇凤池村", "大沥铝材厂", "陈桂英"):
        assert secret not in page
    assert dl_worker.union.name in page  # whom the record belongs to
    assert 'name="proposal-bank_card"' in page
    assert 'name="new_bank_card"' not in page
    # A hand-made POST with the worker's fields and a household changes nothing on the record.
    data = intake_post(dl_worker.id_number, action="draft", new_bank_card=NEW_CARD)
    data.update(management(total=1), **member(0, "妻子", "某某", age="40"))
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 302
    dl_worker.refresh_from_db()
    assert (dl_worker.bank_card, dl_worker.phone, dl_worker.name) == (
        DL_CARD,
        "13700000000",
        dl_worker.name,
    )
    assert list(dl_worker.household.values_list("name", flat=True)) == ["陈桂英"]
    assert not AuditEntry.objects.filter(worker=dl_worker, application=None, actor=people.alice)


def test_the_correction_page_of_such_a_case_shows_no_record(client, people, dl_worker):
    app = file_case(people.alice, dl_worker)
    client.force_login(people.alice)
    edit = reverse("relief:case_edit", args=[app.pk])
    page = html(client.get(edit))
    for secret in (DL_CARD, DL_CARD[-4:], "13700000000", "大沥镇凤池村", "陈桂英"):
        assert secret not in page
    detail = html(client.get(reverse("relief:case_detail", args=[app.pk])))
    for secret in (DL_CARD[-4:], "13700000000", "大沥镇凤池村", "陈桂英"):
        assert secret not in detail
    assert dl_worker.union.name in detail


def _edit_post(app, **extra) -> dict:
    data = {
        "version": str(app.version),
        "categories": [str(c.pk) for c in app.categories.all()],
        "narrative": app.narrative,
        "household_monthly_income": "2000",
        "monthly_medical_expenses": "3000",
        "requested_amount": str(app.requested_amount),
        "attach-kind": "bill",
        "action": "save",
    }
    data.update(extra)
    return data


def test_a_proposal_waits_for_the_town_and_is_paid_only_when_confirmed(
    client, people, dl_worker, well_funded
):
    app = file_case(people.alice, dl_worker)
    client.force_login(people.alice)
    edit = reverse("relief:case_edit", args=[app.pk])
    # A hand-made POST trying the worker form's fields too: only the proposal counts.
    data = _edit_post(
        app,
        **{
            "proposal-phone": "13911112222",
            "proposal-bank_name": "建设银行",
            "proposal-bank_branch": "大沥支行",
            "proposal-bank_card": NEW_CARD,
            "new_bank_card": "6200000000000000000",
            "phone": "13000000000",
        },
    )
    assert client.post(edit, data).status_code == 302
    dl_worker.refresh_from_db()
    assert (dl_worker.bank_card, dl_worker.phone) == (DL_CARD, "13700000000")
    proposal = ProposedChange.objects.get(application=app)
    assert (proposal.status, proposal.bank_card, proposal.phone) == (
        "pending",
        NEW_CARD,
        "13911112222",
    )
    entry = app.audit_entries.get(action="proposal")
    assert entry.changes["bank_card"] == [None, "**** 3456"]
    assert NEW_CARD not in str(entry.changes)
    # Shown back masked, and kept when the card input is left empty.
    page = html(client.get(edit))
    assert NEW_CARD not in page and "**** 3456" in page
    app.refresh_from_db()
    data = _edit_post(
        app,
        **{
            "proposal-phone": "13911112222",
            "proposal-bank_name": "建设银行",
            "proposal-bank_branch": "大沥支行",
        },
    )
    assert client.post(edit, data).status_code == 302
    assert ProposedChange.objects.get(application=app).bank_card == NEW_CARD

    app = services.application_submit(application=app, user=people.alice)
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=dt.date.today(),
        visitors="梁慧敏",
        findings="属实",
        verified_household_income=Decimal("1800"),
        verified_monthly_expenses=Decimal("3000"),
    )
    with pytest.raises(ValidationError) as refused:
        services.application_verify(application=app, user=people.carol)
    assert "proposal" in refused.value.message_dict
    app = services.application_verify(application=app, user=people.carol, proposal="confirm")
    assert (app.payout_card, app.payout_bank_name) == (NEW_CARD, "建设银行")
    # 西樵's reviewer does not hold 大沥's record: the case changes, the record does not.
    dl_worker.refresh_from_db()
    assert (dl_worker.bank_card, dl_worker.phone) == (DL_CARD, "13700000000")
    confirmed = app.audit_entries.get(action="proposal_confirmed")
    assert confirmed.changes == {"payout_card": ["", "**** 3456"]}
    assert dl_worker.union.name in confirmed.comment

    app = recommend_and_approve(app, people)
    assert app.payout_card == NEW_CARD  # approval keeps the confirmed account
    # The holding union changes the card later: the approved case is still paid as approved.
    services.worker_update(
        worker=dl_worker, user=people.bob, data={"bank_card": DL_CARD[:-1] + "9"}
    )
    batch = services.batch_create(
        user=people.erin, title="第一批", applications=[app], fund_source="district"
    )
    book = bank_file(batch)
    import io

    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(book)).active.iter_rows(min_row=2, values_only=True))
    assert rows[0][1:4] == (NEW_CARD, "建设银行", "大沥支行")


def test_a_declined_proposal_changes_nothing(people, dl_worker):
    app = file_case(people.alice, dl_worker)
    services.application_propose(
        application=app,
        user=people.alice,
        data={"phone": "", "bank_name": "建设银行", "bank_branch": "", "bank_card": NEW_CARD},
    )
    app = services.application_submit(application=app, user=people.alice)
    app.refresh_from_db()
    walk_visit(app, people.carol)
    app = services.application_verify(application=app, user=people.carol, proposal="decline")
    assert app.payout_card == ""
    assert ProposedChange.objects.get(application=app).status == "declined"
    app = recommend_and_approve(app, people)
    assert app.payout_card == DL_CARD  # the card on file when the district approved


def recommend_and_approve(app, people):
    app = services.application_recommend(
        application=app, user=people.carol, amount=app.requested_amount, comment="研讨同意"
    )
    return services.application_approve(
        application=app, user=people.erin, amount=app.requested_amount
    )


def walk_visit(app, reviewer):
    services.home_visit_record(
        application=app,
        user=reviewer,
        visit_date=dt.date.today(),
        visitors="梁慧敏",
        findings="属实",
        verified_household_income=Decimal("1800"),
        verified_monthly_expenses=Decimal("3000"),
    )


def test_a_confirmed_proposal_updates_the_record_when_the_reviewer_holds_it(tree, people):
    # Held by XQ-E01 (西樵), filed by alice at XQ-S01: carol's scope holds both.
    worker = WorkerFactory(union=tree.xq_e01, bank_card=DL_CARD, phone="13700000000")
    app = file_case(people.alice, worker)
    services.application_propose(
        application=app,
        user=people.alice,
        data={
            "phone": "13911112222",
            "bank_name": "建设银行",
            "bank_branch": "",
            "bank_card": NEW_CARD,
        },
    )
    app = services.application_submit(application=app, user=people.alice)
    walk_visit(app, people.carol)
    services.application_verify(application=app, user=people.carol, proposal="confirm")
    worker.refresh_from_db()
    assert (worker.bank_card, worker.phone) == (NEW_CARD, "13911112222")
    update = AuditEntry.objects.filter(worker=worker, action="update").latest("pk")
    assert update.actor == people.carol
    assert update.changes["bank_card"] == ["**** 7001", "**** 3456"]


def test_proposals_are_for_workers_held_elsewhere_only(people):
    app = file_case(people.alice)
    with pytest.raises(NotAllowed):
        services.application_propose(
            application=app, user=people.alice, data={"phone": "13911112222"}
        )


def test_a_proposed_card_is_checked(people, dl_worker):
    app = file_case(people.alice, dl_worker)
    with pytest.raises(ValidationError) as refused:
        services.application_propose(
            application=app,
            user=people.alice,
            data={"bank_name": "建设银行", "bank_card": "12ab"},
        )
    assert "bank_card" in refused.value.message_dict
    assert not ProposedChange.objects.exists()


# --- the payout account of a case --------------------------------------------------------


def test_approval_fixes_the_account_and_a_later_card_change_does_not_redirect_it(
    people, well_funded
):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    worker = app.worker
    original = app.payout_card
    assert original == worker.bank_card
    services.worker_update(worker=worker, user=people.alice, data={"bank_card": NEW_CARD})
    app.refresh_from_db()
    assert app.payout_card == original
    payout = services.disbursement_record(
        application=app,
        user=people.erin,
        amount=app.approved_amount,
        paid_on=dt.date.today(),
        method="bank",
        fund_source="district",
    )
    assert payout.application.payout_card == original


def test_the_district_moves_an_approved_case_to_another_account_with_a_reason(people, well_funded):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    for user in (people.alice, people.carol):
        with pytest.raises((NotAllowed, OutOfScope)):
            services.payout_account_change(
                application=app,
                user=user,
                bank_name="建设银行",
                bank_branch="",
                bank_card=NEW_CARD,
                reason="卡已挂失",
            )
    with pytest.raises(ValidationError) as refused:
        services.payout_account_change(
            application=app,
            user=people.erin,
            bank_name="建设银行",
            bank_branch="",
            bank_card=NEW_CARD,
            reason="",
        )
    assert "reason" in refused.value.message_dict
    app = services.payout_account_change(
        application=app,
        user=people.erin,
        bank_name="建设银行",
        bank_branch="西樵支行",
        bank_card=NEW_CARD,
        reason="原卡已挂失",
    )
    assert app.payout_card == NEW_CARD
    entry = app.audit_entries.get(action="payout_account", comment="原卡已挂失")
    assert entry.changes["payout_account"][1] == "建设银行 西樵支行 **** 3456"
    assert NEW_CARD not in str(entry.changes)
    # Once in a bank file sent to the bank, the account stays until the batch is cancelled.
    batch = services.batch_create(
        user=people.erin, title="第一批", applications=[app], fund_source="district"
    )
    services.batch_export(batch=batch, user=people.erin)
    app.refresh_from_db()
    with pytest.raises(ValidationError, match=batch.reference):
        services.payout_account_change(
            application=app,
            user=people.erin,
            bank_name="工商银行",
            bank_branch="",
            bank_card=DL_CARD,
            reason="x",
        )


def test_a_case_without_an_account_is_paid_in_cash_or_given_one(people, well_funded):
    worker = WorkerFactory(union=people.alice.union, bank_card="", bank_name="")
    app = case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        worker=worker,
    )
    with pytest.raises(ValidationError) as refused:
        services.disbursement_record(
            application=app,
            user=people.erin,
            amount=app.approved_amount,
            paid_on=dt.date.today(),
            method="bank",
            fund_source="district",
        )
    assert "method" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.batch_create(
            user=people.erin, title="第一批", applications=[app], fund_source="district"
        )


# --- the caseworker's own worker: full numbers never in the form ---------------------------


def test_the_form_never_shows_stored_full_numbers_and_keeps_them(client, people):
    worker = WorkerFactory(union=people.alice.union, bank_card=DL_CARD)
    member_id = make_id_number(402, born=dt.date(1950, 2, 2), male=False)
    services.household_replace(
        worker=worker,
        user=people.alice,
        members=[{"relation": "母亲", "name": "陈桂英", "id_number": member_id}],
    )
    app = file_case(people.alice, worker)
    client.force_login(people.alice)
    edit = reverse("relief:case_edit", args=[app.pk])
    page = html(client.get(edit))
    assert DL_CARD not in page and member_id not in page
    assert "**** 7001" in page and "440605********" in page
    [kept] = worker.household.all()
    data = _edit_post(
        app,
        name=worker.name,
        phone=worker.phone,
        new_bank_card="",
        **management(total=1, initial=1),
        **member(0, "母亲", "陈桂英", member_pk=str(kept.pk), id_number=""),
    )
    assert client.post(edit, data).status_code == 302
    worker.refresh_from_db()
    assert worker.bank_card == DL_CARD
    assert worker.household.get().id_number == member_id
    # A row naming another worker's member does not borrow that member's number.
    other = WorkerFactory(union=people.alice.union)
    services.household_replace(
        worker=other,
        user=people.alice,
        members=[{"relation": "父亲", "name": "某", "id_number": make_id_number(403)}],
    )
    stranger = other.household.get()
    app.refresh_from_db()
    data = _edit_post(
        app,
        name=worker.name,
        **management(total=1, initial=1),
        **member(0, "母亲", "陈桂英", member_pk=str(stranger.pk), id_number=""),
    )
    assert client.post(edit, data).status_code == 302
    assert worker.household.get().id_number == ""
    # A new card typed in replaces the old one; the trail shows both masked.
    app.refresh_from_db()
    data = _edit_post(app, name=worker.name, new_bank_card="6217 0000 0000 0123 456")
    data.update(management(total=0))
    assert client.post(edit, data).status_code == 302
    worker.refresh_from_db()
    assert worker.bank_card == NEW_CARD
    [entry] = [
        e
        for e in AuditEntry.objects.filter(worker=worker, action="update", application=None)
        if "bank_card" in e.changes
    ]
    assert entry.actor == people.alice
    assert entry.changes["bank_card"] == ["**** 7001", "**** 3456"]


# --- what messages say about people outside the user's scope ------------------------------


def test_a_worker_import_does_not_name_a_worker_held_elsewhere(people, dl_worker):
    from relief.services.worker_import import WORKER_COLUMNS, workers_import
    from tabular.tables import Table

    table = Table(
        headers=list(WORKER_COLUMNS),
        rows=[
            (
                2,
                {
                    "姓名": "张三",
                    "身份证号": dl_worker.id_number,
                    "基层工会": people.alice.union.code,
                    "粤工惠实名": "否",
                },
            )
        ],
    )
    result = workers_import(table=table, user=people.carol, file_name="w.csv", dry_run=True)
    text = " ".join(e.message for e in result.errors)
    assert dl_worker.name not in text
    assert dl_worker.union.parent.name in text


def test_a_ledger_import_does_not_name_a_worker_held_elsewhere(people, dl_worker):
    from relief.services.ledger import LEDGER_COLUMNS, ledger_import
    from tabular.tables import Table
    from tests.relief.conftest import ledger_row

    row = ledger_row(姓名="张三", 身份证号=dl_worker.id_number)
    table = Table(headers=list(LEDGER_COLUMNS), rows=[(2, row)])
    result = ledger_import(table=table, user=people.carol, file_name="l.csv", dry_run=True)
    text = " ".join(e.message for e in result.errors)
    assert dl_worker.name not in text
    assert dl_worker.union.parent.name in text
    # Within the importer's scope the name is given, to fix a typo.
    result = ledger_import(table=table, user=people.erin, file_name="l.csv", dry_run=True)
    assert dl_worker.name in " ".join(e.message for e in result.errors)


# --- moving a worker's record ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("alice", False), ("bob", False), ("carol", False), ("dave", True), ("erin", True)],
)
def test_a_record_is_given_away_by_its_holders_never_taken(tree, people, dl_worker, user, allowed):
    actor = getattr(people, user)
    if not allowed:
        with pytest.raises((NotAllowed, OutOfScope)):
            services.worker_transfer(
                worker=dl_worker, user=actor, to_union=tree.xq_s01, reason="已到西樵就业"
            )
        dl_worker.refresh_from_db()
        assert dl_worker.union == tree.dl_v01
        return
    services.worker_transfer(
        worker=dl_worker, user=actor, to_union=tree.xq_s01, reason="已到西樵就业"
    )
    dl_worker.refresh_from_db()
    assert dl_worker.union == tree.xq_s01
    entry = AuditEntry.objects.get(worker=dl_worker, action="transfer")
    assert (entry.actor, entry.comment) == (actor, "已到西樵就业")
    assert entry.changes == {"union": [tree.dl_v01.name, tree.xq_s01.name]}
    # Now alice's union holds the record, and she may change it.
    assert workers_editable_by(people.alice).filter(pk=dl_worker.pk).exists()


def test_a_transfer_needs_a_grassroots_union_and_a_reason(tree, people, dl_worker):
    with pytest.raises(ValidationError) as refused:
        services.worker_transfer(worker=dl_worker, user=people.erin, to_union=tree.xq, reason="")
    assert set(refused.value.message_dict) == {"to_union", "reason"}


def test_the_admin_transfer_page(client, tree, people, dl_worker):
    url = reverse("admin:relief_worker_transfer", args=[dl_worker.pk])
    client.force_login(people.carol)  # 西樵's reviewer: 大沥's worker does not exist for her
    assert client.get(url).status_code == 404
    assert client.post(url, {"to_union": tree.xq_s01.pk, "reason": "x"}).status_code == 404
    client.force_login(people.dave)
    page = client.get(url)
    assert page.status_code == 200
    assert dl_worker.union.name in page.content.decode()
    refused = client.post(url, {"to_union": tree.xq_s01.pk, "reason": ""})
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    done = client.post(url, {"to_union": tree.xq_s01.pk, "reason": "已到西樵就业"})
    assert done.status_code == 302
    dl_worker.refresh_from_db()
    assert dl_worker.union == tree.xq_s01
    # Now 大沥 no longer holds the record: the page is gone for dave, there for carol.
    assert client.get(url).status_code == 404
    client.force_login(people.carol)
    assert client.get(url).status_code == 200


def test_the_reviewer_sees_the_proposal_masked_and_decides_it_in_the_admin(
    client, people, dl_worker
):
    app = file_case(people.alice, dl_worker)
    services.application_propose(
        application=app,
        user=people.alice,
        data={"phone": "13911112222", "bank_name": "建设银行", "bank_card": NEW_CARD},
    )
    app = services.application_submit(application=app, user=people.alice)
    walk_visit(app, people.carol)
    client.force_login(people.carol)
    page = html(client.get(reverse("admin:relief_application_change", args=[app.pk])))
    assert "建设银行 **** 3456" in page and NEW_CARD not in page
    # The worker is held by 大沥: no link to a record carol cannot open, and no card of it.
    assert reverse("admin:relief_worker_change", args=[dl_worker.pk]) not in page
    assert DL_CARD[-4:] not in page
    verify = reverse("admin:relief_application_act", args=[app.pk, "verify"])
    form = html(client.get(verify))
    assert 'value="confirm"' in form and "**** 3456" in form and NEW_CARD not in form
    refused = client.post(verify, {"version": app.version, "comment": ""})
    assert refused.status_code == 200 and "proposal" in refused.context["form"].errors
    done = client.post(verify, {"version": app.version, "comment": "", "proposal": "decline"})
    assert done.status_code == 302
    app.refresh_from_db()
    assert (app.state, app.proposed_change.status, app.payout_card) == (
        "verified",
        "declined",
        "",
    )


def test_card_numbers_typed_in_full_width_digits_are_stored_as_ascii(people, dl_worker):
    app = file_case(people.alice, dl_worker)
    wide = NEW_CARD.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    services.application_propose(
        application=app, user=people.alice, data={"bank_name": "建设银行", "bank_card": wide}
    )
    assert ProposedChange.objects.get(application=app).bank_card == NEW_CARD
    with pytest.raises(ValidationError) as refused:
        services.application_propose(
            application=app,
            user=people.alice,
            data={"bank_name": "建设银行", "bank_card": "٦٢١٧" * 4},
        )
    assert "bank_card" in refused.value.message_dict
