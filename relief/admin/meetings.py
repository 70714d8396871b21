"""Review meetings (研讨会) in the admin: record one with its decisions, applied all or none."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief import workflow as wf
from relief.admin.base import NotFoundOutsideScope, ReadOnlyInline, has_role
from relief.admin_search import TokenSearchMixin
from relief.models import (
    Decision,
    HomeVisit,
    ProposalStatus,
    ProposedChange,
    ReviewDecision,
    ReviewMeeting,
)
from relief.selectors import applications_for_user
from relief.services.meetings import (
    DecisionInput,
    MeetingErrors,
    decisions_for,
    review_meeting_record,
)
from unions.models import Role
from unions.selectors import scope_q

# Cases a meeting decides on: awaiting the town's review, or verified and awaiting its advice.
ON_THE_AGENDA = (wf.S_SUBMITTED, wf.S_VERIFIED)


def _with_facts(cases):
    """What decides a row's choices, in the list's one query."""
    return cases.select_related("worker", "union").annotate(
        has_visit=Exists(HomeVisit.objects.filter(application=OuterRef("pk"))),
        proposal_pending=Exists(
            ProposedChange.objects.filter(application=OuterRef("pk"), status=ProposalStatus.PENDING)
        ),
    )


class MeetingForm(forms.ModelForm):
    class Meta:
        model = ReviewMeeting
        fields = ["meeting_date", "place", "attendees", "minutes"]
        widgets = {
            "meeting_date": admin.widgets.AdminDateWidget,
            "place": forms.TextInput(attrs={"size": 60}),
            "attendees": forms.TextInput(attrs={"size": 80}),
            "minutes": forms.Textarea(attrs={"rows": 6, "cols": 80}),
        }


class DecisionForm(forms.Form):
    application = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=gettext_lazy("decision"),
        choices=[("", gettext_lazy("— not discussed —")), *Decision.choices],
        required=False,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("recommended amount"),
        max_digits=12,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"class": "amount-input", "step": "0.01"}),  # no style=: CSP
    )
    comment = forms.CharField(
        label=gettext_lazy("comment or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )

    hint = ""

    def __init__(self, *args, applications=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def offer(self, case) -> None:
        """Only the decisions the case's state allows (relief.services.meetings.decisions_for)."""
        allowed = decisions_for(
            case, has_visit=case.has_visit, proposal_pending=case.proposal_pending
        )
        field = self.fields["decision"]
        field.choices = [("", gettext_lazy("— not discussed —")), *allowed]
        field.error_messages["invalid_choice"] = _(
            "This case is “%(state)s”: choose one of %(choices)s."
        ) % {
            "state": case.get_state_display(),
            "choices": "、".join(str(label) for _value, label in allowed),
        }
        if case.state == wf.S_SUBMITTED and not case.has_visit:
            self.hint = _("No home visit on file yet: record it on the case page to recommend.")
        elif case.state == wf.S_SUBMITTED and case.proposal_pending:
            self.hint = _(
                "A proposed payout account awaits confirmation: mark the case verified on its "
                "page first to recommend."
            )
        elif case.state == wf.S_SUBMITTED:
            self.hint = _("Recommending verifies the case first (the home visit is on file).")


# A meeting decides on the cases of one town's agenda; a POST claiming more rows than this is
# refused with a message instead of building (and querying for) thousands of forms.
MAX_CASES_PER_MEETING = 500
DecisionFormSet = forms.formset_factory(
    DecisionForm,
    extra=0,
    max_num=MAX_CASES_PER_MEETING,
    absolute_max=MAX_CASES_PER_MEETING,
    validate_max=True,
)


def _case_pk(value) -> int | None:
    """The case a row names, if it can be one (a hidden field: the POST may say anything)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


class DecisionInline(ReadOnlyInline):
    model = ReviewDecision
    fields = ["application", "decision", "amount", "comment"]


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = [
        "meeting_date",
        "town",
        "attendees",
        "decision_count",
        "recorded_by",
        "minutes_pdf",
    ]
    list_select_related = ["town", "recorded_by"]
    date_hierarchy = "meeting_date"
    fields = [
        "town",
        "meeting_date",
        "place",
        "attendees",
        "minutes",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = fields
    inlines = [DecisionInline]
    change_form_template = "admin/relief/reviewmeeting/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(scope_q(request.user, "town"))
            .annotate(decision_total=Count("decisions"))
        )

    @admin.display(description=gettext_lazy("decisions"), ordering="decision_total")
    def decision_count(self, obj):
        return obj.decision_total

    @admin.display(description=gettext_lazy("minutes (PDF)"))
    def minutes_pdf(self, obj):
        # Whoever reads the meeting here prints its minutes (reports.access.meeting_for).
        return format_html(
            '<a href="{}">{}</a>',
            reverse("reports:meeting_minutes", args=[obj.pk]),
            _("Print the minutes"),
        )

    def has_add_permission(self, request):
        return has_role(request.user, Role.TOWN_REVIEWER)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        scoped = applications_for_user(request.user)
        agenda = list(
            scoped.filter(state__in=ON_THE_AGENDA)
            .order_by("application_date", "pk")
            .values("pk", "version")
        )
        kwargs = {"form_kwargs": {"applications": scoped}}
        if request.method == "POST":
            meeting_form = MeetingForm(request.POST)
            formset = DecisionFormSet(request.POST, **kwargs)
        else:
            meeting_form = MeetingForm(initial={"meeting_date": timezone.localdate()})
            formset = DecisionFormSet(
                initial=[{"application": a["pk"], "version": a["version"]} for a in agenda],
                **kwargs,
            )
        rows = [
            (form, _case_pk(form.initial.get("application") or form["application"].value()))
            for form in formset
        ]
        pks = {pk for _form, pk in rows if pk}
        cases = {a.pk: a for a in _with_facts(scoped.filter(pk__in=pks))}
        rows = [(form, cases.get(pk)) for form, pk in rows]
        for form, case in rows:
            if case is not None:
                form.offer(case)
        if request.method == "POST" and meeting_form.is_valid() and formset.is_valid():
            meeting = self._record(request, meeting_form, formset)
            if meeting is not None:
                messages.success(request, _("The meeting and its decisions were recorded."))
                return HttpResponseRedirect(
                    reverse("admin:relief_reviewmeeting_change", args=[meeting.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a review meeting"),
            "opts": self.opts,
            "meeting_form": meeting_form,
            "formset": formset,
            "rows": rows,
            "media": self.media + meeting_form.media,
        }
        return TemplateResponse(request, "admin/relief/reviewmeeting/add.html", context)

    def _record(self, request, meeting_form, formset):
        decisions, forms_by_case = [], {}
        for form in formset:
            if not form.cleaned_data.get("decision"):
                continue
            application = form.cleaned_data["application"]
            application.version = form.cleaned_data["version"]
            forms_by_case[application.pk] = form
            decisions.append(
                DecisionInput(
                    application=application,
                    decision=form.cleaned_data["decision"],
                    amount=form.cleaned_data["amount"],
                    comment=form.cleaned_data["comment"],
                )
            )
        try:
            return review_meeting_record(
                user=request.user,
                meeting_date=meeting_form.cleaned_data["meeting_date"],
                place=meeting_form.cleaned_data["place"],
                attendees=meeting_form.cleaned_data["attendees"],
                minutes=meeting_form.cleaned_data["minutes"],
                decisions=decisions,
            )
        except MeetingErrors as exc:
            for pk, problems in exc.by_case.items():
                forms_by_case[pk].add_error(None, problems)
            messages.error(
                request,
                _("Nothing was recorded: %(count)d decisions cannot be applied (see each case).")
                % {"count": len(exc.by_case)},
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, problems in exc.message_dict.items():
                    meeting_form.add_error(
                        field if field in meeting_form.fields else None, problems
                    )
            else:
                meeting_form.add_error(None, exc.messages)
        return None
