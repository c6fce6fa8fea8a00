from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from hubsite.admin_actions import RefusedActionsSaySo
from repos.models import Repo, RepoRedirect, Revision


class RepoRedirectInline(admin.TabularInline):
    model = RepoRedirect
    fields = ["owner", "name", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Old names (they redirect here)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Repo)
class RepoAdmin(RefusedActionsSaySo):
    list_display = ["full_name", "type", "private", "current_revision", "updated_at"]
    list_filter = ["type", "private", "namespace__kind"]
    search_fields = ["namespace__name", "name"]
    list_select_related = ["namespace", "head"]
    date_hierarchy = "updated_at"
    # Names and owners change through Repo.move() (settings page), which keeps old URLs working.
    readonly_fields = [
        "namespace",
        "name",
        "type",
        "current_revision",
        "revisions",
        "locked_by",
        "created_at",
        "updated_at",
        "page",
    ]
    fields = [*readonly_fields[:3], "private", *readonly_fields[3:]]
    inlines = [RepoRedirectInline]

    # A locked repository changes only through a support request (lock_override); here the
    # admin simply does not offer what the lock forbids.
    def get_readonly_fields(self, request: HttpRequest, obj: Repo | None = None) -> list[str]:
        if obj is not None and obj.is_locked:
            return [*self.readonly_fields, "private"]
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Repo | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_locked)

    def get_deleted_objects(self, objs, request: HttpRequest):
        """ "Delete selected" names the locked repositories as what stops it, not a permission."""
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        locked = [repo for repo in objs if repo.is_locked]
        if locked:
            perms_needed.discard(Repo._meta.verbose_name)
            protected = [
                *protected,
                *(f"{r.full_name} (locked by {' and '.join(r.lock_reasons)})" for r in locked),
            ]
        return to_delete, counts, perms_needed, protected

    @admin.display(description="locked by")
    def locked_by(self, repo: Repo) -> str:
        locks = repo.locks.order_by("created_at")
        if not locks:
            return "—"
        return format_html_join(", ", "{} ({})", ((lock.reason, lock.holder) for lock in locks))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Repo]:
        return super().get_queryset(request).select_related("namespace", "head")

    @admin.display(description="name", ordering="name")
    def full_name(self, repo: Repo) -> str:
        return repo.full_name

    @admin.display(description="current revision")
    def current_revision(self, repo: Repo) -> str:
        if repo.head is None:
            return "—"
        url = reverse("admin:repos_revision_change", args=[repo.head.pk])
        return format_html('<a href="{}">{}</a> {}', url, repo.head.short_oid, repo.head.message)

    @admin.display(description="revisions")
    def revisions(self, repo: Repo) -> str:
        url = reverse("admin:repos_revision_changelist") + f"?repo__id__exact={repo.pk}"
        return format_html('<a href="{}">{} revisions</a>', url, repo.revisions.count())

    @admin.display(description="on the site")
    def page(self, repo: Repo) -> str:
        return format_html('<a href="{}">{}</a>', repo.get_absolute_url(), repo.get_absolute_url())


@admin.register(Revision)
class RevisionAdmin(RefusedActionsSaySo):
    list_display = ["short_oid", "repo", "message", "author", "created_at"]
    list_select_related = ["repo__namespace", "author"]
    search_fields = ["oid", "message", "repo__name", "repo__namespace__name"]
    list_filter = ["repo__type"]
    date_hierarchy = "created_at"
    fields = [
        "repo",
        "oid",
        "parent",
        "message",
        "author",
        "created_at",
        "card_metadata",
        "card_error",
        "file_list",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_deleted_objects(self, objs, request: HttpRequest):
        """A locked repository's revisions go only with it (Revision.delete refuses too): the
        delete page names the lock as what stops it."""
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = [
            *protected,
            *(
                f"Revision {r.short_oid} of {r.repo.full_name}: the repository is locked by "
                f"{' and '.join(r.repo.lock_reasons)}, and its revisions go only with it, "
                "through a support request"
                for r in objs
                if r.repo.is_locked
            ),
        ]
        return to_delete, counts, perms_needed, protected

    @admin.display(description="id", ordering="oid")
    def short_oid(self, revision: Revision) -> str:
        return revision.short_oid

    @admin.display(description="files")
    def file_list(self, revision: Revision) -> str:
        files = revision.files.select_related("blob")
        if not files:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} ({})</li>", ((f.path, filesizeformat(f.blob.size)) for f in files)
            ),
        )


@admin.register(RepoRedirect)
class RepoRedirectAdmin(RefusedActionsSaySo):
    list_display = ["type", "owner", "name", "repo", "created_at"]
    list_filter = ["type"]
    search_fields = ["owner", "name", "repo__name", "repo__namespace__name"]
    list_select_related = ["repo__namespace"]
    raw_id_fields = ["repo"]
