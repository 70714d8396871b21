"""Search terms kept in the session under short tokens, so that no ID number is ever in an address.

Addresses end up in server access logs, proxy logs, browser history and Referer headers; a
request body and the session do not. So every search box that may be given an ID number
POSTs its term: the server keeps the term in the user's session under a short random token
and answers 303 with the list's address plus `?s=<token>` (the other, non-personal filters
stay ordinary GET parameters). The list reads the term back from the session; pagination,
filter and sort links keep `s=` like any other parameter.

A token is only good in the session that made it, for the list it was made for, for
`MAX_AGE` seconds after its last use. A session holds at most `MAX_TOKENS` of them; the least
recently used go first (the session's dict keeps them in order of use). An unknown or expired
token gives the list without the search and a message. A GET `q=` holding an ID-like number
is refused (dropped with a message), so an old bookmark or a hand-typed address does not keep
working as a leak.

Every search goes through the token, whatever the term (names and case references too), so
the search boxes behave the same way whatever is typed into them.
"""

import re
import secrets
import time
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from relief.idcard import normalize_id_number

TOKEN_VAR = "s"
SEARCH_VAR = "q"
SESSION_KEY = "search_tokens"
MAX_AGE = 30 * 60  # seconds after the token's last use
MAX_TOKENS = 20
MAX_TERM_LENGTH = 200

# A full ID number (17 digits and a digit or X), an old 15-digit one, or enough digits of one
# to pick out a person: any run of 15 or more digits. Separators people type are ignored.
_ID_LIKE = re.compile(r"[0-9]{15,}")
_SEPARATORS = re.compile(r"[\s\-_.]")


def looks_like_id_number(text) -> bool:
    return bool(_ID_LIKE.search(_SEPARATORS.sub("", normalize_id_number(str(text or "")))))


class HttpResponseSeeOther(HttpResponseRedirect):
    """303: the browser follows with a GET, and reloading the list does not post again."""

    status_code = 303


def _now() -> int:
    return int(time.time())


def _live_tokens(request) -> dict:
    """The session's tokens that have not expired (a copy; write it back to keep changes)."""
    now = _now()
    stored = request.session.get(SESSION_KEY) or {}
    return {
        token: entry
        for token, entry in stored.items()
        if isinstance(entry, dict) and now - entry.get("at", 0) <= MAX_AGE
    }


def remember(request, namespace: str, term: str) -> str:
    """Keep `term` for the list `namespace` in this session; the token to put in the address."""
    term = term[:MAX_TERM_LENGTH]
    tokens = _live_tokens(request)
    now = _now()
    token = next(
        (t for t, e in tokens.items() if e.get("ns") == namespace and e.get("q") == term), None
    )
    if token is None:
        token = secrets.token_urlsafe(6)  # 8 characters, 48 random bits
        while token in tokens:
            token = secrets.token_urlsafe(6)
    tokens.pop(token, None)
    tokens[token] = {"ns": namespace, "q": term, "at": now}  # last = most recently used
    if len(tokens) > MAX_TOKENS:
        tokens = dict(list(tokens.items())[-MAX_TOKENS:])
    request.session[SESSION_KEY] = tokens
    return token


def recall(request, namespace: str, token: str) -> str | None:
    """The term kept under `token` for this list in this session, or None (unknown, expired,
    or made for another list). Using a token keeps it alive for another MAX_AGE."""
    tokens = _live_tokens(request)
    entry = tokens.get(token or "")
    if entry is None or entry.get("ns") != namespace:
        if len(tokens) != len(request.session.get(SESSION_KEY) or {}):
            request.session[SESSION_KEY] = tokens  # forget the expired ones
        return None
    entry["at"] = _now()
    tokens[token] = tokens.pop(token)  # now the most recently used
    request.session[SESSION_KEY] = tokens
    return entry.get("q", "")


def redirect_with_search(path: str, params, token: str | None) -> HttpResponseSeeOther:
    """303 to `path` with the non-personal `params` (a QueryDict or a dict) and the token."""
    query = params.copy()
    for name in (SEARCH_VAR, TOKEN_VAR):
        query.pop(name, None)
    if token:
        query[TOKEN_VAR] = token
    encoded = query.urlencode() if hasattr(query, "urlencode") else urlencode(query)
    return HttpResponseSeeOther(f"{path}?{encoded}" if encoded else path)


def store_posted_search(request, namespace: str, keep) -> HttpResponseSeeOther:
    """The POST of a search box: keep its term, then back to the list with the token.

    `keep` is a QueryDict of the other (non-personal) parameters for the address, or a list
    of names to take from the POST."""
    term = (request.POST.get(SEARCH_VAR) or "").strip()
    if isinstance(keep, list | tuple):
        # Filters are choices and years; a value that could hold an ID number is no filter
        # (only a hand-made POST sends one) and never goes into the address.
        params = {
            name: request.POST[name]
            for name in keep
            if request.POST.get(name) and not looks_like_id_number(request.POST[name])
        }
    else:
        params = keep
    token = remember(request, namespace, term) if term else None
    return redirect_with_search(request.path, params, token)


def _without(request, *names) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def refuse_id_in_address(request) -> HttpResponseSeeOther | None:
    """A GET `q=` holding an ID-like number: not searched, dropped, with a message. None if the
    address is clean."""
    if not looks_like_id_number(request.GET.get(SEARCH_VAR)):
        return None
    messages.error(
        request,
        _(
            "Searches by ID number go through the search box, never the address: "
            "the number in the address was ignored. Type it into the search box."
        ),
    )
    return HttpResponseSeeOther(_without(request, SEARCH_VAR))


def search_expired(request) -> HttpResponseSeeOther:
    """An unknown or expired token: the list without the search, and a message saying why."""
    messages.warning(
        request,
        _(
            "This search has expired (searches are kept for %(minutes)d minutes) "
            "and the list is shown without it. Please search again."
        )
        % {"minutes": MAX_AGE // 60},
    )
    return HttpResponseSeeOther(_without(request, TOKEN_VAR, SEARCH_VAR, "page", "p"))


def term_for(request, namespace: str) -> tuple[str | None, HttpResponseSeeOther | None]:
    """For a list's GET: (the search term or None, a redirect to answer instead or None)."""
    refused = refuse_id_in_address(request)
    if refused is not None:
        return None, refused
    token = request.GET.get(TOKEN_VAR)
    if not token:
        return None, None
    term = recall(request, namespace, token)
    if term is None:
        return None, search_expired(request)
    return term, None
