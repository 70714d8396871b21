"""The formula guard for every spreadsheet or CSV cell the project writes."""

# Formula-injection guard added on export ("'=..."): taken off again on import.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """THE formula guard for every spreadsheet or CSV cell the project writes.

    A text cell a spreadsheet would run as a formula (= + - @, or a tab or carriage return
    before one) gets a leading apostrophe; tabular.tables._cell_text takes it off again on
    import. Only text: numbers and dates stay typed (a negative amount is a
    number, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
