"""Idempotent money writes (issue 12, finding 3): a retry cannot record a payout twice.

Every money form (a payout from the admin or the case page, a reversal, a fund income entry,
marking a batch paid) carries a random key generated when the form was loaded (a hidden
field). The write runs through `once`: the key is stored in the same transaction as what the
write made, so
- a second submission with the same key (the response was lost and the user sent the form
  again, a double click) finds the first result and writes nothing;
- two simultaneous submissions with one key meet at the unique constraint: on PostgreSQL the
  second INSERT waits for the first transaction and then fails, and finds the first result;
  on SQLite writes are serialised anyway.
A failed write (a ValidationError, a conflict) rolls its key back, so the corrected form can
be sent again with the same key. A form posted without a key (a client that is not a
browser using our form) is written without this protection.
"""

import secrets

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relief.models import IdempotencyKey

FIELD = "idempotency_key"


def new_key() -> str:
    return secrets.token_urlsafe(24)


class IdempotentFormMixin(forms.Form):
    """Adds the hidden key, fresh on every unbound (GET) form."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(FIELD, new_key())


def posted_key(request) -> str:
    return (request.POST.get(FIELD) or "").strip()[:64]


def already_made(user, key: str):
    """What an earlier submission with this key made, or None (also for someone else's key)."""
    if not key:
        return None
    record = (
        IdempotencyKey.objects.filter(key=key, user=user).select_related("content_type").first()
    )
    return record.made() if record is not None else None


def once(user, key: str, make):
    """(what `make()` made, True), or (what the first submission made, False) for a used key."""
    if not key:
        return make(), True
    with transaction.atomic():
        earlier = already_made(user, key)
        if earlier is not None:
            return earlier, False
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(key=key, user=user)
        except IntegrityError:
            # A simultaneous submission with this key committed first: its result stands.
            earlier = already_made(user, key)
            if earlier is None:
                raise ValidationError(_("This form was already used. Reload the page.")) from None
            return earlier, False
        made = make()
        record.content_type = ContentType.objects.get_for_model(made)
        record.object_id = made.pk
        record.save(update_fields=["content_type", "object_id"])
        return made, True


def replay_message() -> str:
    return _("Already recorded; not recorded again.")
