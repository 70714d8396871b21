"""The home-visit form (入户核实): a town reviewer records a visit on a phone, in the field.

The admin's case page links here (it no longer has an editable inline, which made it 1,390 px
wide on a laptop and a sideways-scrolling table on a phone). The write is the same service
as ever: relief.services.home_visit_record (with the visit's photos through attachment_add).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import form_drafts, idempotency, services
from relief import workflow as wf
from relief.conflicts import handle_conflicts, stale_text
from relief.error_links import error_links
from relief.forms_visits import HomeVisitForm
from relief.models import HomeVisit
from relief.models.visit import AttachmentKind
from relief.selectors import application_for_user


def _back(request, case) -> str:
    """Where the reviewer came from: the admin's case page, or the site's."""
    if (request.POST.get("back") or request.GET.get("back")) == "admin":
        return reverse("admin:relief_application_change", args=[case.pk])
    return reverse("relief:case_detail", args=[case.pk])


def _uploads(form) -> list:
    camera = [(f, AttachmentKind.PHOTO) for f in form.cleaned_data["camera_photos"]]
    others = [
        (
            f,
            AttachmentKind.PHOTO
            if (f.content_type or "").startswith("image/")
            else AttachmentKind.OTHER,
        )
        for f in form.cleaned_data["other_files"]
    ]
    return camera + others


@login_required
def visit_new(request, pk):
    user = request.user
    case = application_for_user(user, pk)  # outside the user's scope: 404
    if not wf.role_has(user, "home_visit"):
        raise PermissionDenied(_("Only town reviewers record home visits."))
    back = _back(request, case)
    case_page = reverse("relief:case_detail", args=[case.pk])
    if request.method == "POST":
        key = idempotency.posted_key(request)
        earlier = idempotency.already_made(user, key)
        if isinstance(earlier, HomeVisit) and earlier.application_id == case.pk:
            # Sent again after a lost answer: the first one is on file.
            form_drafts.mark_saved(request, key)
            messages.info(request, idempotency.replay_message())
            return redirect(case_page)
    if not wf.role_may(user, "home_visit", case.state):
        messages.error(request, stale_text(case, "home_visit"))
        return redirect(back)
    initial = {
        "version": case.version,
        "visit_date": timezone.localdate(),
        "visitors": user.get_full_name() or user.get_username(),
    }
    form = HomeVisitForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            case.version = form.cleaned_data["version"]
            key = form.cleaned_data.get(idempotency.FIELD, "")
            try:
                with handle_conflicts(form) as outcome:
                    idempotency.once(
                        user,
                        key,
                        lambda: services.home_visit_record_with_files(
                            application=case,
                            user=user,
                            uploads=_uploads(form),
                            source="web",
                            **form.visit_data(),
                        ),
                    )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                if outcome.conflict is None:
                    form_drafts.mark_saved(request, key)
                    messages.success(request, _("The home visit is recorded."))
                    # The case page of the site: it shows the visit and clears the copy the
                    # phone kept of this form; it links back to the admin.
                    return redirect(case_page)
    return render(
        request,
        "relief/visit_new.html",
        {
            "case": case,
            "form": form,
            "back": back,
            "from_admin": back != case_page,
            "links": error_links(form),
            "count": sum(len(v) for v in form.errors.values()) if form.is_bound else 0,
            "files_lost": request.method == "POST" and bool(request.FILES),
        },
        status=status,
    )
