"""Choice fields that refuse an id no database column can hold before asking the database.

Django's ModelMultipleChoiceField looks the posted ids up with `pk__in`; on SQLite an id past
the 64-bit range ('9999999999999999999') makes the sqlite3 driver raise OverflowError, a 500
(found by tests/hardening/test_fuzz_every_form.py on the correction page's categories). Such an
id can name nothing, so it is refused as any other unknown choice, next to its field.
"""

from django import forms
from django.core.exceptions import ValidationError

BIGINT = 2**63


def _out_of_range(value) -> bool:
    text = str(value).strip()
    digits = text[1:] if text[:1] in "+-" else text
    return digits.isdecimal() and not -BIGINT <= int(text) < BIGINT


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        if self.to_field_name is None and not isinstance(value, str | bytes):
            try:
                values = list(value)
            except TypeError:
                values = []
            for item in values:
                if _out_of_range(item):
                    raise ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": item},
                    )
        return super()._check_values(value)
