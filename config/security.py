"""Middleware and hooks for sessions, headers and sign-in throttling (see config/settings.py)."""

import time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from config.throttling import ADDRESS, LOCKED_BY
from privacy.access import client_ip

# Seconds since the epoch of the session's last request; written at most once a minute, so an
# active user's session is not saved on every request.
LAST_SEEN = "_last_seen"
TOUCH_EVERY = 60


class IdleTimeoutMiddleware:
    """Sign out a session idle for SESSION_IDLE_TIMEOUT seconds; fix its absolute end.

    The absolute end (SESSION_COOKIE_AGE after sign-in) is stored in the session as an explicit
    expiry date: without it, every save of the session would push its end further away.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = time.time()
            last = session.get(LAST_SEEN)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.warning(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": settings.SESSION_IDLE_TIMEOUT // 60},
                )
            else:
                if "_session_expiry" not in session:
                    session.set_expiry(
                        timezone.now() + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE)
                    )
                if last is None or now - last >= TOUCH_EVERY:
                    session[LAST_SEEN] = now
        return self.get_response(request)


class SignOutClearsStorageMiddleware:
    """Signing out (the site's button or the admin's) empties the browser's storage for this
    site: `Clear-Site-Data: "storage"`.

    The intake and home-visit forms keep what is typed in the phone's storage until the server
    has it (static/js/form-draft.js), so a lost signal loses nothing; on a shared phone, none
    of it (names, ID numbers, a household's illnesses) may outlive a sign-out. Every user's
    copies go, not only the signing-out user's: whoever signs out leaves the phone clean. The
    script also clears them on the site's sign-out button, for browsers without the header.
    An automatic sign-out after idle time does not clear them: that is the lost-signal case.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signing_out = request.method == "POST" and request.user.is_authenticated
        response = self.get_response(request)
        match = request.resolver_match
        if (
            signing_out
            and match is not None
            and match.url_name == "logout"
            and not request.user.is_authenticated
        ):
            response["Clear-Site-Data"] = '"storage"'
        return response


class NoStoreMiddleware:
    """Nothing a signed-in user is shown may be kept by a browser or a proxy cache.

    Every page and file of a signed-in user may carry personal data (cases, the admin, PDFs,
    exports, attachments); the sign-in page and static files (served earlier by WhiteNoise)
    keep their caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


# axes keeps the attempted username in a 255-character column; a longer one (no account has
# one: usernames are at most 150) made the failed sign-in a 500 on PostgreSQL. Counted under
# its first 255 characters instead.
AXES_USERNAME_MAX = 255


def axes_username(request, credentials=None):
    """The username axes counts failures for: the one posted, cut to what it can store."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    return value[:AXES_USERNAME_MAX] if isinstance(value, str) else value


def axes_client_ip(request) -> str:
    """The address axes counts failures for: the same one the access log records."""
    return client_ip(request) or ""


def _locked_form(form_class, request, message):
    class Locked(form_class):
        # No authentication at all: the pair is locked, whatever the password.
        def clean(self):
            raise forms.ValidationError(message, code="locked_out")

    form = Locked(request, data=request.POST)
    form.is_valid()
    return form


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page again, with a message saying why and for how long (HTTP 429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if getattr(request, LOCKED_BY, None) == ADDRESS:
        text = _(
            "Too many failed sign-in attempts from this network address. Sign-in from it is "
            "locked for %(minutes)d minutes; a district officer or an administrator can unlock "
            "it sooner."
        )
    else:
        text = _(
            "Too many failed sign-in attempts for this user. Sign-in is locked for %(minutes)d "
            "minutes; a district officer or an administrator can unlock it sooner."
        )
    message = text % {"minutes": minutes}
    if request.path.startswith(_admin_login_path()):
        context = {
            **admin.site.each_context(request),
            "title": _("Log in"),
            "app_path": request.get_full_path(),
            "form": _locked_form(AdminAuthenticationForm, request, message),
            "username": request.user.get_username(),
        }
        return render(request, "admin/login.html", context, status=429)
    context = {
        "form": _locked_form(AuthenticationForm, request, message),
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)


def _admin_login_path() -> str:
    from django.urls import reverse

    return reverse("admin:login")
