"""Staff handle support requests here: a queue, each request with its repository's DOIs and audit
trail, and the actions "Approve and carry out" and "Reject" (each through a confirmation page)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from doi.models import Doi, DoiNotAllowed
from hubsite.admin_actions import RefusedActionsSaySo
from support.models import DEFAULT_PUBLIC_REASON, SupportRequest, SupportRequestError


class ApproveForm(forms.Form):
    public_reason = forms.CharField(
        label="Public reason (deletions)",
        required=False,
        initial=DEFAULT_PUBLIC_REASON,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown on the tombstone page of the repository's DOIs. Do not copy private "
        "details from the requester's reason.",
    )
    note = forms.CharField(
        label="Note to the requester",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, deleting: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if deleting:
            self.fields["public_reason"].required = True
        else:
            del self.fields["public_reason"]


class RejectForm(forms.Form):
    note = forms.CharField(
        label="Why it is rejected",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Sent to the requester and shown on their request page.",
    )


class ReplyForm(forms.Form):
    note = forms.CharField(
        label="Reply to the requester",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="E-mailed to the requester and shown in the history on their request page. "
        "Nothing is decided: the request stays as it is.",
    )


@admin.register(SupportRequest)
class SupportRequestAdmin(RefusedActionsSaySo):
    list_display = ("title", "repo_name", "action", "requester", "status", "created_at")
    list_display_links = ("title",)
    list_filter = ("status", "action")
    search_fields = (
        "repo_name",
        "repo__name",
        "repo__namespace__name",
        "requester__username",
        "requester__email",
        "repo__dois__doi",
    )
    list_select_related = ("repo__namespace", "requester", "new_namespace")
    date_hierarchy = "created_at"
    actions = ("approve_selected", "reject_selected")
    change_form_template = "admin/support/supportrequest/change_form.html"
    # The site's request page is the requester's own; staff work here.
    view_on_site = False
    fieldsets = (
        (None, {"fields": ("repo_link", "action", "summary", "status", "requester", "reason")}),
        ("If approved", {"fields": ("approval_effect",)}),
        ("Repository", {"fields": ("repository",)}),
        ("Earlier requests about this repository", {"fields": ("earlier_requests",)}),
        (
            "Handling",
            {
                "fields": (
                    "staff_note",
                    "public_reason",
                    "handled_by",
                    "handled_at",
                    "carried_out_at",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        ("DOIs of the repository", {"fields": ("doi_states",)}),
        ("Audit trail", {"fields": ("audit_trail",)}),
    )
    readonly_fields = (
        "repo_link", "action", "summary", "status", "requester", "reason", "staff_note",
        "public_reason", "handled_by", "handled_at", "carried_out_at", "created_at",
        "updated_at", "doi_states", "audit_trail", "approval_effect", "repository",
        "earlier_requests",
    )  # fmt: skip

    # Requests come from owners and stay as a record: staff only handle them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_carry_out_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("support.carry_out_supportrequest")

    def has_reject_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("support.reject_supportrequest")

    @admin.display(description="Request", ordering="pk")
    def title(self, obj: SupportRequest) -> str:
        return f"#{obj.pk} {obj.summary}"

    @admin.display(description="Asked for")
    def summary(self, obj: SupportRequest) -> str:
        return obj.summary

    @admin.display(description="Repository")
    def repo_link(self, obj: SupportRequest) -> str:
        repo = obj.repo
        state = " (removed)" if repo.is_removed else (" (private)" if repo.private else "")
        if repo.is_removed:
            return f"{repo.full_name}{state}"
        return format_html('<a href="{}">{}</a>{}', repo.get_absolute_url(), repo.full_name, state)

    @admin.display(description="What happens")
    def approval_effect(self, obj: SupportRequest) -> str:
        if not obj.is_open:
            return f"Nothing more: the request is {obj.get_status_display().lower()}."
        return render_to_string(
            "admin/support/supportrequest/_approval_effect.html",
            {"steps": obj.approval_steps(), "effect": obj.doi_effect},
        )

    @admin.display(description="Name, visibility, owner, members")
    def repository(self, obj: SupportRequest) -> str:
        repo = obj.repo
        namespace = repo.namespace
        organization = getattr(namespace, "organization", None)
        members = (
            organization.memberships.select_related("user").order_by("user__username")
            if organization is not None
            else []
        )
        return render_to_string(
            "admin/support/supportrequest/_repository.html",
            {
                "repo": repo,
                "owner": organization or namespace.user,
                "owner_url": _change_url(organization or namespace.user),
                "members": members,
            },
        )

    @admin.display(description="Requests")
    def earlier_requests(self, obj: SupportRequest) -> str:
        earlier = (
            SupportRequest.objects.filter(repo_id=obj.repo_id, created_at__lte=obj.created_at)
            .exclude(pk=obj.pk)
            .select_related("repo__namespace", "new_namespace", "requester")
            .order_by("-created_at")
        )
        return render_to_string(
            "admin/support/supportrequest/_earlier.html",
            {"earlier": [(r, _change_url(r)) for r in earlier]},
        )

    @admin.display(description="DOIs")
    def doi_states(self, obj: SupportRequest) -> str:
        return render_to_string(
            "admin/support/supportrequest/_dois.html",
            {"dois": obj.dois()},
        )

    @admin.display(description="Since the request was opened")
    def audit_trail(self, obj: SupportRequest) -> str:
        return render_to_string(
            "admin/includes/_events.html", {"events": obj.history(), "with_doi": True}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_carry_out": self.has_carry_out_permission(request),
            "can_reject": self.has_reject_permission(request),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="support_supportrequest_approve",
            ),
            path(
                "<int:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="support_supportrequest_reject",
            ),
            path(
                "<int:pk>/reply/",
                self.admin_site.admin_view(self.reply_view),
                name="support_supportrequest_reply",
            ),
            *super().get_urls(),
        ]

    # Approve and carry out ------------------------------------------------------------------

    @admin.action(description="Approve and carry out selected requests", permissions=["carry_out"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._approve(request, list(queryset.open()), from_changelist=True)

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        support_request = self._handled_object(request, pk)
        if not self.has_carry_out_permission(request, support_request):
            return self._refuse(request, support_request, "approve and carry out")
        if not support_request.is_open:
            self.message_user(request, f"Request #{pk} was already handled.", messages.WARNING)
            return self._back(support_request)
        return self._approve(request, [support_request], from_changelist=False) or (
            self._back(support_request)
        )

    def _approve(
        self, request: HttpRequest, requests: list[SupportRequest], *, from_changelist: bool
    ) -> HttpResponse | None:
        if not requests:
            self.message_user(request, "No open request was selected.", messages.WARNING)
            return None
        deleting = any(r.action == SupportRequest.Action.DELETE for r in requests)
        confirmed = request.method == "POST" and "confirm" in request.POST
        form = ApproveForm(request.POST if confirmed else None, deleting=deleting)
        if confirmed and form.is_valid():
            for support_request in requests:
                self._carry_out(request, support_request, form.cleaned_data)
            return None
        return self._confirmation(
            request, requests, form, "approve", "Approve and carry out", from_changelist
        )

    def _carry_out(self, request: HttpRequest, support_request: SupportRequest, data) -> None:
        try:
            done = support_request.carry_out(
                request.user,
                public_reason=data.get("public_reason", ""),
                note=data.get("note", ""),
            )
        except (SupportRequestError, DoiNotAllowed) as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        if not done:
            self.message_user(
                request,
                f"Request #{support_request.pk} was already handled; nothing was done again.",
                messages.WARNING,
            )
            return
        self.message_user(
            request, f"Request #{support_request.pk} carried out: {support_request.summary}."
        )
        waiting = [d for d in support_request.dois() if d.pending_action]
        if waiting:
            self.message_user(
                request,
                f"DataCite has not confirmed the change yet for {', '.join(map(str, waiting))}: "
                "it is pending and retried automatically (see the DOIs below).",
                messages.WARNING,
            )

    # Reject ------------------------------------------------------------------------------------

    @admin.action(description="Reject selected requests", permissions=["reject"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._reject(request, list(queryset.open()), from_changelist=True)

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        support_request = self._handled_object(request, pk)
        if not self.has_reject_permission(request, support_request):
            return self._refuse(request, support_request, "reject")
        if not support_request.is_open:
            self.message_user(request, f"Request #{pk} was already handled.", messages.WARNING)
            return self._back(support_request)
        return self._reject(request, [support_request], from_changelist=False) or (
            self._back(support_request)
        )

    def _reject(
        self, request: HttpRequest, requests: list[SupportRequest], *, from_changelist: bool
    ) -> HttpResponse | None:
        if not requests:
            self.message_user(request, "No open request was selected.", messages.WARNING)
            return None
        confirmed = request.method == "POST" and "confirm" in request.POST
        form = RejectForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            for support_request in requests:
                try:
                    done = support_request.reject(request.user, form.cleaned_data["note"])
                except (ValidationError, PermissionDenied) as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                    continue
                if done:
                    self.message_user(request, f"Request #{support_request.pk} rejected.")
                else:
                    self.message_user(
                        request,
                        f"Request #{support_request.pk} was already handled; it stays as it was.",
                        messages.WARNING,
                    )
            return None
        return self._confirmation(request, requests, form, "reject", "Reject", from_changelist)

    # Reply -------------------------------------------------------------------------------------

    def reply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        support_request = self._handled_object(request, pk)
        if not self.has_reject_permission(request, support_request):
            return self._refuse(request, support_request, "reply to")
        form = ReplyForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            support_request.reply(request.user, form.cleaned_data["note"])
            self.message_user(
                request,
                f"Reply sent to {support_request.requester.username}; the request stays "
                f"{support_request.get_status_display().lower()}.",
            )
            return self._back(support_request)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reply to {support_request.requester.username}",
            "button": "Send reply",
            "verb": "reply",
            "opts": self.model._meta,
            "support_requests": [(support_request, [])],
            "form": form,
        }
        return TemplateResponse(request, "admin/support/supportrequest/confirm.html", context)

    # Shared ------------------------------------------------------------------------------------

    def _handled_object(self, request: HttpRequest, pk: int) -> SupportRequest:
        support_request = get_object_or_404(SupportRequest.objects.select_related("repo"), pk=pk)
        if not self.has_view_permission(request, support_request):
            raise PermissionDenied
        return support_request

    def _refuse(
        self, request: HttpRequest, support_request: SupportRequest, what: str
    ) -> HttpResponseRedirect:
        self.message_user(
            request,
            f"You do not have the permission to {what} support requests; nothing was changed.",
            messages.ERROR,
        )
        return self._back(support_request)

    def _back(self, support_request: SupportRequest) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:support_supportrequest_change", args=[support_request.pk])
        )

    def _confirmation(
        self,
        request: HttpRequest,
        requests: list[SupportRequest],
        form: forms.Form,
        verb: str,
        title: str,
        from_changelist: bool,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: are you sure?",
            "button": title,
            "verb": verb,
            "opts": self.model._meta,
            "support_requests": [
                (r, Doi.objects.live().filter(repo_id=r.repo_id).order_by("number"))
                for r in requests
            ],
            "form": form,
            "from_changelist": from_changelist,
            "action_name": f"{verb}_selected",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/support/supportrequest/confirm.html", context)


def _change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
