"""Adding files to a case and downloading them, both only within the user's scope."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.storage import file_response, open_for_download
from privacy import access
from privacy.models import AccessKind
from relief import services
from relief.errors import Conflict
from relief.forms import AttachmentForm
from relief.models import Attachment
from relief.selectors import application_for_user
from relief.views.cases import render_case
from relief.views.common import Invalid, call_service, caseworker_required, posted_version
from unions.selectors import scope_q

# Shown in the browser (phones open photos directly): only images Pillow decoded on upload
# (relief.uploads). PDFs, even checked ones, and HEIC photos are downloaded: a browser's PDF
# viewer is a program of its own, and HEIC cannot be decoded here.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def store_attachments(form, application, user) -> list[Attachment]:
    """Add the form's files through the service; call inside transaction.atomic."""
    stored = []
    try:
        for upload in form.cleaned_data["files"]:
            stored.append(
                call_service(
                    form,
                    services.attachment_add,
                    application=application,
                    user=user,
                    upload=upload,
                    kind=form.cleaned_data["kind"],
                )
            )
    except BaseException:
        discard_files(stored)
        raise
    return stored


def discard_files(attachments) -> None:
    """Remove stored files whose rows were rolled back (nothing would ever serve them)."""
    for attachment in attachments:
        attachment.file.storage.delete(attachment.file.name)


@require_POST
@caseworker_required
def attachment_add(request, pk):
    application = application_for_user(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES, prefix="attach", require_file=True)
    if form.is_valid():
        application.version = posted_version(request)
        try:
            with transaction.atomic():
                stored = store_attachments(form, application, request.user)
        except Invalid:
            pass
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                ngettext("%(n)d file added.", "%(n)d files added.", len(stored))
                % {"n": len(stored)},
            )
            return redirect("relief:case_detail", pk=pk)
    return render_case(request, application, attachment_form=form, status=400)


@login_required
@require_GET
def attachment_download(request, pk):
    """The file, if the user's scope includes its case; otherwise it does not exist (404)."""
    try:
        attachment = (
            Attachment.objects.filter(scope_q(request.user, "application__union"))
            .select_related("application")
            .get(pk=pk)
        )
    except (Attachment.DoesNotExist, ValueError):
        raise Http404 from None
    try:
        # Streamed from the storage (the folder or the S3 bucket), never a bucket URL.
        handle = open_for_download(attachment.file.storage, attachment.file.name)
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    # Every download is in the access log (caseworkers' pages and the admin's case page both
    # link here); written before the file is sent.
    try:
        access.record(request, AccessKind.ATTACHMENT, obj=attachment)
    except BaseException:
        handle.close()
        raise
    response = file_response(
        handle,
        content_type=attachment.content_type,
        as_attachment=attachment.content_type not in INLINE_TYPES,
        filename=attachment.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    # Whatever the file turns out to be, a browser must neither guess another type nor run
    # anything in it with the site's rights (the sandbox gives it a unique origin).
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response
