"""Sign-in throttling per user and per address, with a limit of its own for each.

django-axes counts failures per lockout parameter (here the username, and the address) but
compares every count with the one AXES_FAILURE_LIMIT. An address needs a larger limit than a
user (config/settings.py says why), so this handler counts both and reports to axes the user's
count, or a full count when the address is over LOGIN_ADDRESS_FAILURE_LIMIT. Which of the two
locked the request is kept on it for the lockout page (config.security.lockout_response).
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

USER, ADDRESS = "user", "address"
LOCKED_BY = "relief_locked_by"


def _total(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class UserOrAddressHandler(AxesDatabaseHandler):
    def failure_counts(self, request, credentials=None) -> tuple[int, int]:
        """Recent failures (within the cool-off time) for this username from any address, and
        from this address for any username."""
        # Ordered as settings.AXES_LOCKOUT_PARAMETERS: ["username", "ip_address"].
        by_user, by_address = self.get_user_attempts(request, credentials)
        return _total(by_user), _total(by_address)

    def get_failures(self, request, credentials=None) -> int:
        by_user, by_address = self.failure_counts(request, credentials)
        locked_by = None
        if by_user >= settings.AXES_FAILURE_LIMIT:
            locked_by = USER
        elif by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            locked_by = ADDRESS
        setattr(request, LOCKED_BY, locked_by)
        # axes compares this with AXES_FAILURE_LIMIT: an address over its own limit counts as
        # a user at theirs.
        if locked_by == ADDRESS:
            return max(by_user, settings.AXES_FAILURE_LIMIT)
        return by_user

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A success clears this user's failures from this address, nothing else.

        axes would also clear every failure of the address: anyone with one valid account could
        then wipe the address's count between rounds of guesses at other accounts. Failures
        from other addresses stay: signing in here proves nothing about those.
        """
        username = get_client_username(request, credentials)
        deleted, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return deleted
