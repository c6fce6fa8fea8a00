from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from accounts.forms import AdminJoinForm
from accounts.models import Membership, Namespace, Organization, User
from hubsite.admin_actions import RefusedActionsSaySo


class HubUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(RefusedActionsSaySo, DjangoUserAdmin):
    form = HubUserChangeForm
    add_form = AdminJoinForm
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

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if not change:
            # The admin's change view runs in a transaction, so a failed save releases the name.
            obj.namespace = Namespace.claim(obj.username, Namespace.Kind.USER)
        super().save_model(request, obj, form, change)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)


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
