"""Lock a case for a change and check, in order: scope (404), version (409), role (403), state."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.conflicts import last_change_text, set_lock_timeout
from relief.errors import Conflict, NotAllowed, OutOfScope
from relief.models import Application
from unions.selectors import scope_q


def lock_application(application: Application, user, action: str) -> Application:
    """The locked, current row; call inside transaction.atomic.

    `application` is the caller's copy: if its version is older than the row's, someone else
    changed the case after it was loaded, and acting on it would be acting blind.
    """
    # A lock not obtained in time ends the wait as a Conflict (relief.conflicts), not a 500.
    set_lock_timeout()
    rows = Application.objects.select_for_update(of=("self",)).filter(scope_q(user, "union"))
    try:
        locked = rows.select_related("policy", "worker", "union").get(pk=application.pk)
    except Application.DoesNotExist:
        raise OutOfScope from None
    if locked.version != application.version:
        raise Conflict(application=locked)
    if not wf.role_has(user, action):
        raise NotAllowed(_("Your role cannot do this."))
    if not wf.role_may(user, action, locked.state):
        # The role takes this step, but the case moved on: say who moved it and when.
        raise ValidationError(
            last_change_text(locked)
            + " "
            + _("This case is “%(state)s”: “%(action)s” is not possible now.")
            % {"state": locked.get_state_display(), "action": wf.TRANSITION_LABELS[action]}
            + " "
            + wf.what_to_do(user, action, locked.state)
        )
    return locked
