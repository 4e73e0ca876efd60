"""``{% fast_result_list cl %}``: a changelist's table with its rows written
in Python (``core.admin.fast_rows``) where the list allows it, else
django-unfold's own ``result_list``. Used by the changelist templates of the
big lists (the reports list)."""

from __future__ import annotations

from django import template
from unfold.templatetags.unfold_list import result_list

from core.admin.fast_rows import fast_result_list_context, fast_rows_apply

register = template.Library()


@register.simple_tag(takes_context=True)
def fast_result_list(context, cl):
    if fast_rows_apply(cl):
        name, values = "admin/fast_change_list_results.html", fast_result_list_context(context, cl)
    else:
        name, values = "admin/change_list_results.html", result_list(context, cl)
    return context.template.engine.get_template(name).render(context.new(values))
