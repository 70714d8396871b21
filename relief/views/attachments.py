"""Downloading an attachment: only through this view, only within the user's scope."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from relief.errors import OutOfScope
from relief.models import Attachment
from unions.selectors import scope_q


@require_GET
@never_cache
@login_required
def download(request, pk: int):
    """The file of an attachment on a case in the user's subtree; anything else is 404."""
    attachment = Attachment.objects.filter(
        scope_q(request.user, "application__union"), pk=pk
    ).first()
    if attachment is None:
        raise OutOfScope
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise OutOfScope from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
