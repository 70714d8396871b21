"""Django's own messages that its zh-hans catalog does not translate, kept in ours.

Django 5.2's catalog still has the old msgid of the password-length message (with
%(min_length)d) while the code asks for one with %d, so users saw it in English. Naming the
message here keeps it in our catalog through `makemessages --no-obsolete`; nothing imports it.
"""

from django.utils.translation import ngettext_lazy

PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)
