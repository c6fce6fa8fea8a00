from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from repos import slots
from repos.models import Repo

register = template.Library()


@register.simple_tag(takes_context=True)
def repo_slot(context: template.Context, slot: str) -> SafeString:
    """What other apps registered for ``slot`` (see repos.slots) for this page's repo."""
    return slots.render(slot, context["request"], context["repo"], context.get("revision"))


@register.simple_tag
def repo_url(repo: Repo, view: str, *args) -> str:
    """``Repo.url`` for templates: {% repo_url repo "blob" revision.oid file.path %}."""
    return repo.url(view, *args)
