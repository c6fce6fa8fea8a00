from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import router
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst

from accounts.forms import AdminJoinForm
from accounts.models import AccessToken, LastAdmin, Membership, Namespace, Organization, User
from hubsite.admin_actions import RefusedActionsSaySo


def _with_their_names(deleted: tuple, objs) -> tuple:
    """The admin's "what deleting these users or organizations takes" with their names added:
    a name is freed with its owner, and anything still using it stops the deletion."""
    to_delete, counts, perms_needed, protected = deleted
    namespaces = [obj.namespace for obj in objs]
    collector = NestedObjects(using=router.db_for_write(Namespace))
    collector.collect(namespaces)
    owners = {(type(obj), obj.pk) for obj in objs}
    blockers = [
        f"{capfirst(p._meta.verbose_name)}: {p} (it uses the name “{p.namespace}”)"
        if hasattr(p, "namespace")
        else f"{capfirst(p._meta.verbose_name)}: {p}"
        for p in collector.protected
        if (type(p), p.pk) not in owners
    ]
    names = [f"Name: {namespace.name} (freed for others to take)" for namespace in namespaces]
    return [*to_delete, *names], counts, perms_needed, [*protected, *blockers]


class HubUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(RefusedActionsSaySo, DjangoUserAdmin):
    form = HubUserChangeForm
    add_form = AdminJoinForm
    # Django's two-box selector puts an aria-label on a plain <span> (axe: serious); a plain
    # multiple select is labelled properly.
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("full_name", "email", "namespace")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "full_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    # The username is the namespace's name: renaming here would split the two.
    readonly_fields = ("username", "namespace", "last_login", "date_joined")
    list_display = ("username", "email", "full_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active")
    search_fields = ("username", "email", "full_name")
    ordering = ("username",)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        return self.readonly_fields if obj else ()

    def get_deleted_objects(self, objs, request: HttpRequest):
        deleted = _with_their_names(super().get_deleted_objects(objs, request), objs)
        to_delete, counts, perms_needed, protected = deleted
        users = {user.pk for user in objs}
        admin_of = Organization.objects.filter(
            memberships__user__in=users, memberships__role=Membership.Role.ADMIN
        ).distinct()
        for organization in admin_of:
            admins = organization.memberships.filter(role=Membership.Role.ADMIN)
            if not admins.exclude(user__in=users).exists():
                protected = [*protected, LastAdmin(organization.name).message]
        return to_delete, counts, perms_needed, protected

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if not change:
            # The admin's change view runs in a transaction, so a failed save releases the name.
            obj.namespace = Namespace.claim(obj.username, Namespace.Kind.USER)
        super().save_model(request, obj, form, change)


class MembershipFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data]
        if not any(
            data.get("role") == Membership.Role.ADMIN and not data.get("DELETE") for data in kept
        ):
            raise ValidationError(
                "An organization needs an admin: keep one, or make another member admin first."
            )

    # Promotions first, demotions and removals after: a handover in one save never passes
    # through "no admin", which the models refuse (LastAdmin).
    def save_existing_objects(self, commit: bool = True):
        self._after_promotions = []
        saved = super().save_existing_objects(commit)
        for step in self._after_promotions:
            step()
        return saved

    def save_existing(self, form, obj, commit: bool = True):
        if form.cleaned_data.get("role") == Membership.Role.ADMIN:
            return super().save_existing(form, obj, commit)
        self._after_promotions.append(
            lambda: super(MembershipFormSet, self).save_existing(form, obj, commit)
        )
        return obj

    def delete_existing(self, obj, commit: bool = True) -> None:
        self._after_promotions.append(
            lambda: super(MembershipFormSet, self).delete_existing(obj, commit)
        )


class MembershipInline(admin.StackedInline):
    # Stacked, with a plain user-id field: the tabular layout leaves the role and delete
    # controls without labels, and the autocomplete widget has no accessible name (axe).
    model = Membership
    formset = MembershipFormSet
    extra = 1
    raw_id_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(RefusedActionsSaySo):
    list_display = ("name", "display_name", "created_at")
    search_fields = ("namespace__name", "display_name")
    list_select_related = ("namespace",)
    inlines = (MembershipInline,)
    readonly_fields = ("namespace", "created_at")
    fields = ("namespace", "display_name", "description", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An organization needs a claimed namespace and a first admin: create it on the site.
        return False

    def get_deleted_objects(self, objs, request: HttpRequest):
        return _with_their_names(super().get_deleted_objects(objs, request), objs)


@admin.register(Namespace)
class NamespaceAdmin(RefusedActionsSaySo):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Namespace | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Namespace | None = None) -> bool:
        return False


@admin.register(AccessToken)
class AccessTokenAdmin(RefusedActionsSaySo):
    """Tokens are listed and revoked here, never made or read: only a fingerprint of the secret
    is stored, and its owner creates a token in Settings → Access tokens."""

    list_display = ("name", "user", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    fields = ("user", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected access tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        count = queryset.revoke()
        self.message_user(request, f"Revoked {count} access token(s).", messages.SUCCESS)


admin.site.unregister(Group)


@admin.register(Group)
class HubGroupAdmin(RefusedActionsSaySo, GroupAdmin):
    filter_horizontal = ()  # as on UserAdmin: the two-box selector fails axe


# django-axes' "Clean up expired attempts" deletes rows yet declares no permission: here it needs
# the permission to delete them, like lifting a lockout by hand.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(RefusedActionsSaySo, AxesAccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset) -> None:
        # Axes measures "expired" from the time of the request's own log-in attempt, which only
        # its log-in path sets: without it the action fails with a server error.
        request.axes_attempt_time = timezone.now()
        super().cleanup_expired_attempts(request, queryset)
