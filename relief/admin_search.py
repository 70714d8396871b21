"""Admin searches without ID numbers in addresses: every project ModelAdmin takes this mixin.

The changelist search box (templates/admin/search_form.html) POSTs its term to the changelist
with a `_search` marker; `changelist_view` keeps the term in the session
(relief.search_tokens) and answers 303 with `?s=<token>` plus the filters, sorting and popup
parameters the box carried. `TokenSearchChangeList` reads the term back, so Django's own
features work unchanged: the term is shown in the box, filters, sort links, the date
hierarchy, pagination and "N results (M total)" keep `s=` like any other parameter, actions
and the import-export export act on the searched rows.

Autocomplete (`/admin/autocomplete/?term=…`): its select2 widget sends the term by GET. Rather
than fork Django's vendored autocomplete JS to POST (which each Django upgrade could break),
no autocomplete searches by ID number: the ID fields are left out of an autocomplete's search
fields, and an ID-like term is not searched at all (empty result). Autocompletes pick related
rows by name or code (the project's are unions); nobody needs to pick one by an ID number.
"""

from django.contrib.admin.views.main import ChangeList, ChangeListSearchForm
from django.core.exceptions import PermissionDenied

from relief import search_tokens

SEARCH_MARKER = "_search"
# Never carried from the posted search box into the address.
_NOT_CARRIED = {
    SEARCH_MARKER,
    "csrfmiddlewaretoken",
    search_tokens.SEARCH_VAR,
    search_tokens.TOKEN_VAR,
    "p",  # a new search starts on the first page
    "e",  # Django's "invalid lookup" flag
}


def search_namespace(model) -> str:
    """A token made for one model's list is no good on another's."""
    return f"admin:{model._meta.label_lower}"


def is_autocomplete(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name == "autocomplete")


class TokenSearchChangeList(ChangeList):
    """Django's ChangeList, with the search term read from the session token in `s=`."""

    def __init__(self, request, model, *args, **kwargs):
        token = request.GET.get(search_tokens.TOKEN_VAR)
        if token:
            term = search_tokens.recall(request, search_namespace(model), token) or ""
            # ChangeList reads its term through this form from request.GET; give it the
            # session's term instead (an instance attribute shadows the class's).
            self.search_form_class = lambda _data: ChangeListSearchForm(
                {search_tokens.SEARCH_VAR: term}
            )
        super().__init__(request, model, *args, **kwargs)

    def get_results(self, request):
        super().get_results(request)
        # A list that fits on one page: Django reads it again (`queryset._clone()`) after its
        # count; a paginator that read the first page with the count (relief.paging) already
        # holds every row, so the page costs the same queries as a longer list's first page.
        rows = getattr(self.paginator, "first_page_rows", None)
        if rows is not None and not self.multi_page and not self.list_editable:
            self.result_list = rows

    def get_filters_params(self, params=None):
        # `s` is not a lookup: without this Django would refuse it as a filter (?e=1).
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(search_tokens.TOKEN_VAR, None)
        return lookup_params


class TokenSearchMixin:
    """For every ModelAdmin of the project (tests check each registered admin has it)."""

    def get_changelist(self, request, **kwargs):
        return TokenSearchChangeList

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and SEARCH_MARKER in request.POST:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            carried = request.POST.copy()
            for name in list(carried):
                if name in _NOT_CARRIED:
                    carried.pop(name)
            return search_tokens.store_posted_search(request, search_namespace(self.model), carried)
        # Also for an action's POST: with its token expired, "all matching rows" would be
        # every row in scope instead of the searched ones.
        _term, answer = search_tokens.term_for(request, search_namespace(self.model))
        if answer is not None:
            return answer
        return super().changelist_view(request, extra_context)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if is_autocomplete(request):
            fields = [f for f in fields if "id_number" not in str(f)]
        return fields

    def get_search_results(self, request, queryset, search_term):
        if is_autocomplete(request) and search_tokens.looks_like_id_number(search_term):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)
