"""Filing a case (ID number first) and correcting a draft or returned case.

The ID number is posted, never put in a URL, so it stays out of logs and browser history.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from relief import form_drafts, idempotency, services
from relief import workflow as wf
from relief.error_links import error_links
from relief.errors import Conflict
from relief.forms import (
    RELATIONS,
    ApplicationForm,
    AttachmentForm,
    HouseholdFormSet,
    IdNumberForm,
    ProposalForm,
    WorkerForm,
)
from relief.models import Application, Policy
from relief.selectors import application_for_user, applications_for_user, prior_relief, timeline
from relief.services.proposals import pending_proposal
from relief.services.workers import MEMBER_FIELDS, workers_editable_by
from relief.views.attachments import discard_files, store_attachments
from relief.views.common import Invalid, call_service, caseworker_required, posted_version
from relief.views.presenters import last_comment, missing_items, timeline_rows


def _member_initial(member) -> dict:
    # The stored ID number stays out of the form: masked as a hint, kept when left empty.
    row = model_to_dict(member, fields=[f for f in MEMBER_FIELDS if f != "id_number"])
    row["member_pk"] = member.pk
    row["masked_id_number"] = member.masked_id_number
    return row


class CaseForms:
    """The worker, household, case and attachment forms of one page, bound or not.

    The worker and household parts are there only when the user may edit that record (its
    union lies in their scope); otherwise a proposal form takes what this case should use.
    """

    def __init__(
        self,
        data=None,
        files=None,
        *,
        worker=None,
        edit_worker=True,
        case=None,
        policy,
        draft=False,
    ):
        self.worker = self.household = self.proposal = None
        if edit_worker:
            self.worker = WorkerForm(data, instance=worker)
            members = (
                [_member_initial(m) for m in worker.household.all()] if worker is not None else []
            )
            self.household = HouseholdFormSet(data, initial=members, prefix="household")
        else:
            proposed = getattr(case, "pending_proposal", None) if case is not None else None
            initial = (
                {
                    "phone": proposed.phone,
                    "bank_name": proposed.bank_name,
                    "bank_branch": proposed.bank_branch,
                }
                if proposed is not None
                else {}
            )
            self.proposal = ProposalForm(data, initial=initial, prefix="proposal")
            if proposed is not None and proposed.bank_card:
                self.proposal.fields["bank_card"].help_text = _(
                    "Proposed: %(card)s. Leave empty to keep it."
                ) % {"card": proposed.masked_card}
                self.proposed_card = proposed.bank_card
        initial = {}
        if case is not None:
            initial = {
                "categories": list(case.categories.all()),
                "narrative": case.narrative,
                "household_monthly_income": case.household_monthly_income,
                "monthly_medical_expenses": case.monthly_medical_expenses,
                "requested_amount": case.requested_amount,
                "grassroots_opinion": case.grassroots_opinion,
            }
        self.case = ApplicationForm(data, initial=initial, policy=policy, draft=draft)
        self.attachments = AttachmentForm(data, files, prefix="attach")
        # The form's one-time key: sent again (a lost answer, a copy the phone kept), the
        # same form files nothing twice (relief.idempotency).
        posted = (data.get(idempotency.FIELD) or "").strip()[:64] if data is not None else ""
        self.key = posted or idempotency.new_key()

    proposed_card = ""

    def all(self):
        parts = (self.worker, self.household, self.proposal, self.case, self.attachments)
        return [f for f in parts if f is not None]

    def proposal_data(self) -> dict:
        data = dict(self.proposal.cleaned_data)
        if not data["bank_card"] and data["bank_name"] and self.proposed_card:
            data["bank_card"] = self.proposed_card  # the input was left empty: keep it
        return data

    def is_valid(self) -> bool:
        results = [f.is_valid() for f in self.all()]  # every form, for every message
        return all(results)

    def error_links(self):
        # A message about the household as a whole links to its section.
        targets = {self.household.prefix: "household-title"} if self.household is not None else None
        return error_links(*self.all(), formset_targets=targets)

    def error_count(self) -> int:
        count = 0
        for f in self.all():
            if hasattr(f, "total_error_count"):
                count += f.total_error_count()
            else:
                count += len(f.errors)
        return count


def save_case(request, forms: CaseForms, *, action, worker=None, id_number="", case=None):
    """Write everything through the services in one transaction; None if anything refused."""
    user = request.user
    stored = []
    try:
        with transaction.atomic():
            if forms.worker is not None:
                data = forms.worker.worker_data()
                members = forms.household.members()
                if worker is None:
                    worker = call_service(
                        forms.worker,
                        services.worker_create,
                        formset=forms.household,
                        user=user,
                        data={**data, "id_number": id_number},
                        household=members,
                    )
                else:
                    worker = call_service(
                        forms.worker, services.worker_update, worker=worker, user=user, data=data
                    )
                    call_service(
                        forms.worker,
                        services.household_replace,
                        formset=forms.household,
                        worker=worker,
                        user=user,
                        members=members,
                    )
            facts = forms.case.case_data()
            categories = forms.case.cleaned_data["categories"]
            if case is None:
                case = call_service(
                    forms.case,
                    services.application_create,
                    user=user,
                    worker=worker,
                    categories=categories,
                    **facts,
                )
            else:
                case = call_service(
                    forms.case,
                    services.application_update,
                    application=case,
                    user=user,
                    data=facts,
                    categories=categories,
                )
            if forms.proposal is not None:
                case = call_service(
                    forms.proposal,
                    services.application_propose,
                    application=case,
                    user=user,
                    data=forms.proposal_data(),
                )
            stored = store_attachments(forms.attachments, case, user)
            if action in ("submit", "resubmit"):
                service = getattr(services, f"application_{action}")
                case = call_service(forms.case, service, application=case, user=user)
    except Invalid:
        discard_files(stored)
        return None
    except Conflict as exc:
        discard_files(stored)
        forms.case.add_error(None, str(exc))
        return None
    return case


class _Refused(Exception):
    """save_case refused (its messages are on the forms): the form's key is freed."""


def save_case_once(request, forms: CaseForms, **kwargs):
    """save_case, at most once per form key; None if refused."""

    def make():
        case = save_case(request, forms, **kwargs)
        if case is None:
            raise _Refused
        return case

    try:
        case, _created = idempotency.once(request.user, forms.key, make)
    except _Refused:
        return None
    except ValidationError as exc:  # the key is another user's (a form copied between them)
        forms.case.add_error(None, exc.messages)
        return None
    form_drafts.mark_saved(request, forms.key)
    return case


def _replayed(request, case=None):
    """A form sent again after the server had it: the case it made, with a message."""
    key = idempotency.posted_key(request)
    earlier = idempotency.already_made(request.user, key)
    if not isinstance(earlier, Application) or (case is not None and earlier.pk != case.pk):
        return None
    form_drafts.mark_saved(request, key)
    messages.info(request, idempotency.replay_message())
    return redirect("relief:case_detail", pk=earlier.pk)


def _policy_today():
    return Policy.in_force(timezone.localdate())


def _intake_context(
    request, *, id_form, forms=None, prior=None, editable=True, step=1, policy=None
):
    user = request.user
    context = {
        "id_form": id_form,
        "forms": forms,
        "prior": prior,
        "editable_worker": editable,
        "step": step,
        "policy": policy,
        "relations": RELATIONS,
        "files_lost": False,
    }
    if prior is not None and prior.in_progress_reference:
        # Name the case in progress; link it only when it lies in the user's scope.
        context["in_progress_reference"] = format_html(
            '<span class="nowrap">{}</span>', prior.in_progress_reference
        )
        context["in_progress_pk"] = (
            applications_for_user(user)
            .filter(reference=prior.in_progress_reference)
            .values_list("pk", flat=True)
            .first()
        )
    if prior is not None:
        context["worker_union"] = prior.worker.union.name
    return context


@caseworker_required
def case_new(request):
    """Step 1: the ID number. Step 2: the worker (pre-filled if known), household and case."""
    if request.method != "POST":
        return render(
            request, "relief/case_new.html", _intake_context(request, id_form=IdNumberForm())
        )
    # Before anything else: a re-sent intake (also its ID-number step, sent by the copy the
    # phone kept) answers with the case the first one filed.
    replay = _replayed(request)
    if replay is not None:
        return replay
    id_form = IdNumberForm(request.POST)
    if not id_form.is_valid():
        return render(request, "relief/case_new.html", _intake_context(request, id_form=id_form))
    number = id_form.cleaned_data["id_number"]
    prior = prior_relief(number)
    worker = prior.worker if prior else None
    editable = worker is None or workers_editable_by(request.user).filter(pk=worker.pk).exists()
    policy = _policy_today()
    blocked = prior is not None and bool(prior.in_progress_reference)
    if request.POST.get("step") != "file" or blocked:
        forms = None if blocked else CaseForms(worker=worker, edit_worker=editable, policy=policy)
        context = _intake_context(
            request,
            id_form=id_form,
            forms=forms,
            prior=prior,
            editable=editable,
            step=2,
            policy=policy,
        )
        return render(request, "relief/case_new.html", context)
    action = "submit" if request.POST.get("action") == "submit" else "draft"
    forms = CaseForms(
        request.POST,
        request.FILES,
        worker=worker,
        edit_worker=editable,
        policy=policy,
        draft=action == "draft",
    )
    if forms.is_valid():
        case = save_case_once(request, forms, action=action, worker=worker, id_number=number)
        if case is not None:
            messages.success(
                request,
                _("Case %(reference)s submitted to the town for review.")
                % {"reference": case.reference}
                if action == "submit"
                else _("Case %(reference)s saved as a draft.") % {"reference": case.reference},
            )
            return redirect("relief:case_detail", pk=case.pk)
    context = _intake_context(
        request,
        id_form=id_form,
        forms=forms,
        prior=prior,
        editable=editable,
        step=2,
        policy=policy,
    )
    context["files_lost"] = bool(request.FILES)
    return render(request, "relief/case_new.html", context, status=400)


@caseworker_required
def case_edit(request, pk):
    """Correct a draft or a returned case, with the reviewer's comment on top."""
    case = application_for_user(request.user, pk)
    if request.method == "POST":
        # Sent again after the server had it (it may have moved the case on since).
        replay = _replayed(request, case)
        if replay is not None:
            return replay
    if not wf.role_may(request.user, "edit", case.state):
        messages.error(request, _("This case can no longer be changed here."))
        return redirect("relief:case_detail", pk=pk)
    returned = None
    if case.state == wf.S_RETURNED:
        returned = last_comment(timeline_rows(timeline(case)), wf.RETURNS)
    then = "resubmit" if case.state == wf.S_RETURNED else "submit"
    status = 200
    editable = workers_editable_by(request.user).filter(pk=case.worker_id).exists()
    case.pending_proposal = pending_proposal(case)
    if request.method == "POST":
        action = then if request.POST.get("action") == then else "save"
        forms = CaseForms(
            request.POST,
            request.FILES,
            worker=case.worker,
            edit_worker=editable,
            case=case,
            policy=case.policy,
            # Only a draft may be saved incomplete; a returned case was complete already.
            draft=action == "save" and case.state == wf.S_DRAFT,
        )
        if forms.is_valid():
            case.version = posted_version(request)
            saved = save_case_once(request, forms, action=action, worker=case.worker, case=case)
            if saved is not None:
                messages.success(
                    request,
                    _("Changes saved.")
                    if action == "save"
                    else _("Case %(reference)s sent to the town for review.")
                    % {"reference": saved.reference},
                )
                return redirect("relief:case_detail", pk=pk)
        status = 400
    else:
        forms = CaseForms(worker=case.worker, edit_worker=editable, case=case, policy=case.policy)
    return render(
        request,
        "relief/case_edit.html",
        {
            "case": case,
            "forms": forms,
            "returned": returned,
            "then": then,
            "policy": case.policy,
            "relations": RELATIONS,
            # As last saved: what submitting still needs, linked to the fields below.
            "missing": missing_items(case) if case.state == wf.S_DRAFT else [],
            "files_lost": request.method == "POST" and bool(request.FILES),
            # After a refused save, keep the version the form was loaded with.
            "version": posted_version(request) if request.method == "POST" else case.version,
        },
        status=status,
    )
