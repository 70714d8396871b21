"""What the server tells the browser's kept copy of a form (static/js/form-draft.js).

A caseworker's intake and a reviewer's home-visit form are kept in the phone's storage as they
are typed, so a submission lost with the signal can be sent again. The copy must go once the
server has the submission, and only the server knows that: after a write (or a replay of one)
the form's one-time key (relief.idempotency) is put in the session, and the next case page
hands it to the script, which removes the copy holding that key. A key alone says nothing
about the case: it is random.
"""

SESSION_KEY = "relief_drafts_saved"
KEPT = 20  # a handful of forms between two page views at most; the list never grows


def mark_saved(request, key: str) -> None:
    if not key:
        return
    saved = [k for k in request.session.get(SESSION_KEY, []) if k != key]
    request.session[SESSION_KEY] = [*saved, key][-KEPT:]


def pop_saved(request) -> list[str]:
    return request.session.pop(SESSION_KEY, [])
