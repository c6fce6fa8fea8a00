"""Staff watch and repair DOIs here: state, attempts and DataCite's last error, the consent and
the audit trail; actions to retry a registration, re-send the metadata, or discard a DOI that
never reached DataCite. DOIs change only through those domain methods: every field is read-only.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timezone import localtime

from doi import usage
from doi.metadata import landing_url
from doi.models import Consent, Doi, DoiNotAllowed, Event
from hubsite.admin_actions import RefusedActionsSaySo


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            *Doi.State.choices,
            ("attention", "Has an error"),
            ("differs", "Differs at DataCite"),
        ]

    def queryset(self, request, queryset):
        if self.value() in Doi.State.values:
            return queryset.in_state(self.value())
        if self.value() == "attention":
            return queryset.live().exclude(last_error="")
        if self.value() == "differs":
            return queryset.differing()
        return queryset


def _pretty_json(value) -> str:
    return format_html(
        '<pre class="hub-pre-wrap">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False),
    )


class WrappedTextMedia:
    # Classes, not style attributes: the Content-Security-Policy refuses inline styles.
    css = {"all": ["css/admin.css"]}


def _user_link(user) -> str:
    if user is None:
        return "—"
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return format_html('<a href="{}">{}</a> ({})', url, user.username, user.full_name or "no name")


@admin.register(Doi)
class DoiAdmin(RefusedActionsSaySo):
    Media = WrappedTextMedia
    list_display = [
        "doi",
        "kind",
        "repo_link",
        "state_display",
        "attempts",
        "error_display",
        "created_at",
    ]
    list_filter = [StateFilter, "kind", "pending_action", "error_is_permanent"]
    search_fields = ["doi", "repo__name", "repo__namespace__name"]
    list_select_related = ["repo__namespace"]
    date_hierarchy = "created_at"
    actions = ["retry_registration", "resend_metadata", "discard"]
    change_list_template = "admin/doi/doi/change_list.html"
    fieldsets = [
        (None, {"fields": ["doi", "kind", "repo_link", "revision_link", "concept", "landing"]}),
        (
            "Registration",
            {
                "fields": [
                    "state_display",
                    "remote_state",
                    "pending_action",
                    "attempts",
                    "next_attempt_at",
                    "problem",
                    "error_is_permanent",
                    "registered_at",
                    "last_synced_at",
                    "remote_differences",
                    "differs_since",
                    "discarded_at",
                ]
            },
        ),
        ("Consent", {"fields": ["consent_who", "consent_when", "consent_text", "consent_payload"]}),
        ("Metadata last built", {"fields": ["metadata_display"], "classes": ["collapse"]}),
        ("Audit trail", {"fields": ["audit_trail"]}),
    ]
    readonly_fields = [f for _, options in fieldsets for f in options["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Doi]:
        return (
            super()
            .get_queryset(request)
            .select_related("repo__namespace", "concept")
            .prefetch_related(
                Prefetch(
                    "consents", Consent.objects.select_related("user").order_by("created_at", "pk")
                )
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # DOIs are made by their owners, with consent

    def get_urls(self):
        return [
            path(
                "usage-report/",
                self.admin_site.admin_view(self.usage_report_view),
                name="doi_doi_usage_report",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra = {"can_download_usage_report": _can_download_usage_report(request)}
        return super().changelist_view(request, extra | (extra_context or {}))

    def usage_report_view(self, request: HttpRequest) -> HttpResponse:
        """A month's Make Data Count dataset report (``doi.usage.dataset_report``) to download:
        the form to choose the month, and with ``?month=YYYY-MM`` the JSON file."""
        if not _can_download_usage_report(request):
            raise PermissionDenied
        month, error = request.GET.get("month", ""), ""
        if month:
            try:
                report = usage.dataset_report(month)
            except ValueError as exc:
                error = str(exc)
            else:
                response = JsonResponse(report, json_dumps_params={"indent": 2})
                response["Content-Disposition"] = f'attachment; filename="dsr-{month}.json"'
                return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Usage report (COUNTER / Make Data Count)",
            "month": month or usage.last_full_month(),
            "error": error,
        }
        return TemplateResponse(
            request, "admin/doi/doi/usage_report.html", context, status=400 if error else 200
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # DOIs are permanent; a never-registered one can be discarded

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        # Nothing here is editable: no save buttons that would do nothing.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # Columns -------------------------------------------------------------------------------------

    @admin.display(description="repository", ordering="repo__name")
    def repo_link(self, doi: Doi) -> str:
        url = reverse("admin:repos_repo_change", args=[doi.repo_id])
        return format_html('<a href="{}">{}</a>', url, doi.repo.full_name)

    @admin.display(description="revision")
    def revision_link(self, doi: Doi) -> str:
        if doi.revision_id is None:
            return f"{doi.revision_oid or '—'} (its files were removed)"
        url = reverse("admin:repos_revision_change", args=[doi.revision_id])
        return format_html('<a href="{}">{}</a>', url, doi.revision_oid)

    @admin.display(description="state")
    def state_display(self, doi: Doi) -> str:
        return doi.state_label

    @admin.display(description="problem")
    def error_display(self, doi: Doi) -> str:
        return Truncator(doi.problem).chars(120) if doi.last_error else "—"

    @admin.display(description="problem")
    def problem(self, doi: Doi) -> str:
        return doi.problem or "—"

    @admin.display(description="landing page")
    def landing(self, doi: Doi) -> str:
        url = landing_url(doi.doi)
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="agreed by")
    def consent_who(self, doi: Doi) -> str:
        consent = self._consent(doi)
        return _user_link(consent.user) if consent else "— (a concept DOI has no own consent)"

    @admin.display(description="agreed at")
    def consent_when(self, doi: Doi) -> str:
        consent = self._consent(doi)
        return date_format(localtime(consent.created_at), "DATETIME_FORMAT") if consent else "—"

    @admin.display(description="text agreed to")
    def consent_text(self, doi: Doi) -> str:
        consent = self._consent(doi)
        if consent is None:
            return "—"
        return format_html(
            '<p>Version {}</p><blockquote class="hub-pre-wrap">{}</blockquote>',
            consent.text_version,
            consent.text,
        )

    @admin.display(description="payload shown and sent")
    def consent_payload(self, doi: Doi) -> str:
        consent = self._consent(doi)
        return _pretty_json(consent.payload) if consent else "—"

    @admin.display(description="events, newest first")
    def audit_trail(self, doi: Doi) -> str:
        # A table of its own rather than a read-only inline: Django's tabular inline leaves
        # its first column without a header (axe: td-has-header, critical).
        events = doi.events.select_related("actor")
        return render_to_string("admin/includes/_events.html", {"events": events})

    @admin.display(description="DataCite attributes")
    def metadata_display(self, doi: Doi) -> str:
        return _pretty_json(doi.metadata)

    def _consent(self, doi: Doi) -> Consent | None:
        """The consent given at minting (those of later edits are in the Consents list)."""
        return next(iter(doi.consents.all()), None)

    # Actions -------------------------------------------------------------------------------------

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("doi.retry_doi")

    def has_discard_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("doi.discard_doi")

    @admin.action(description="Retry registration", permissions=["retry"])
    def retry_registration(self, request: HttpRequest, queryset: QuerySet[Doi]) -> None:
        self._act(request, queryset, "retry", "queued for registration again")

    @admin.action(description="Re-send metadata to DataCite", permissions=["retry"])
    def resend_metadata(self, request: HttpRequest, queryset: QuerySet[Doi]) -> None:
        self._act(request, queryset, "resend_metadata", "queued to re-send their metadata")

    @admin.action(description="Discard (only DOIs DataCite never got)", permissions=["discard"])
    def discard(self, request: HttpRequest, queryset: QuerySet[Doi]) -> None:
        self._act(request, queryset, "discard", "discarded")

    def _act(self, request: HttpRequest, queryset: QuerySet[Doi], method: str, done: str) -> None:
        count = 0
        for doi in queryset.order_by("number"):
            try:
                getattr(doi, method)(actor=request.user)
            except DoiNotAllowed as exc:
                self.message_user(request, f"{doi.doi}: {exc.message}", messages.ERROR)
                continue
            count += 1
            if doi.last_error:
                # With the immediate task backend the push has run already.
                self.message_user(request, f"{doi.doi}: {doi.problem}", messages.WARNING)
        if count:
            self.message_user(request, f"{count} DOI(s) {done}.", messages.SUCCESS)


def _can_download_usage_report(request: HttpRequest) -> bool:
    return request.user.has_perm("doi.download_usage_report")


class ReadOnlyAdmin(RefusedActionsSaySo):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    Media = WrappedTextMedia
    list_display = ["doi", "user", "repo", "text_version", "created_at"]
    list_select_related = ["doi", "user", "repo__namespace"]
    search_fields = ["doi__doi", "user__username", "repo__name"]
    date_hierarchy = "created_at"
    fields = ["doi", "user", "repo", "revision_oid", "text_version", "text", "payload_display"]
    readonly_fields = fields

    @admin.display(description="payload shown and sent")
    def payload_display(self, consent: Consent) -> str:
        return _pretty_json(consent.payload)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "doi", "repo", "actor", "message"]
    list_filter = ["kind"]
    list_select_related = ["doi", "repo__namespace", "actor"]
    search_fields = ["doi__doi", "repo__name", "actor__username", "message"]
    date_hierarchy = "created_at"
