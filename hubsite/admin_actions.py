"""Admin actions a staff member may not run are refused with a message that says so.

Django drops such actions from the menu, but a POST naming one (an old tab, a crafted form) is
answered with the bare list or "No action selected"; staff should learn why nothing happened.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import model_format_dict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


class RefusedActionsSaySo(admin.ModelAdmin):
    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        refused = self._refused_action(request)
        if refused is not None:
            self.message_user(
                request,
                f"You do not have the permission to run “{refused}”; nothing was changed.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

    def _refused_action(self, request: HttpRequest) -> str | None:
        """The description of the action a POST asks for, when this user may not run it."""
        name = request.POST.get("action") if request.method == "POST" else None
        # Staff who may not see the list at all get Django's 403 instead.
        if not name or not self.has_view_or_change_permission(request):
            return None
        if name in self.get_actions(request):
            return None
        for action in self._get_base_actions():
            if action.name == name:
                return str(action.plural_description % model_format_dict(self.opts))
        return None
