"""{% fast_result_list cl %}: the changelist's table from relief.admin.result_table, through
the same change_list_results.html as Django's {% result_list cl %}."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from relief.admin.result_table import result_list

register = template.Library()


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
