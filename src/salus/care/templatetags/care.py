"""``{% care_panel client %}``: the overdose-risk prompts and goals of a client, for any page
that shows a client (the client page includes care/client_panel.html, which uses it)."""

from django import template

register = template.Library()


@register.inclusion_tag("care/_panel.html", takes_context=True)
def care_panel(context, client):
    from salus.care.views import panel_context
    from salus.core import access

    request = context.get("request")
    user = getattr(request, "user", None)
    if client is None or not access.can(user, "care.view"):
        return {"show": False}
    ctx = panel_context(client, user)
    ctx.update(show=True, request=request, next=request.get_full_path() if request else "",
               csrf_token=context.get("csrf_token"), salus_can=context.get("salus_can"))
    return ctx
