"""The ready-made "Support staff" group that migrate keeps in step with support.staff_group."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from support import staff_group


def _codenames(group: Group) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


EXPECTED = {
    "support.view_supportrequest",
    "support.carry_out_supportrequest",
    "support.reject_supportrequest",
    "repos.view_repo",
    "repos.view_revision",
    "repos.view_reporedirect",
    "repos.override_repo_lock",
    "doi.view_doi",
    "doi.view_consent",
    "doi.view_event",
    "doi.retry_doi",
    "doi.discard_doi",
    "accounts.view_user",
    "accounts.view_organization",
    "accounts.view_membership",
    "accounts.view_namespace",
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
}


def test_the_migrated_database_has_the_group_with_exactly_its_permissions(db):
    assert _codenames(Group.objects.get(name=staff_group.NAME)) == EXPECTED


def test_migrate_puts_the_group_back_as_it_should_be(db):
    group = Group.objects.get(name=staff_group.NAME)
    group.permissions.remove(Permission.objects.get(codename="carry_out_supportrequest"))
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    call_command("migrate", verbosity=0)
    assert _codenames(Group.objects.get(name=staff_group.NAME)) == EXPECTED
    Group.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert _codenames(Group.objects.get(name=staff_group.NAME)) == EXPECTED


def test_support_staff_have_exactly_the_groups_permissions(support_staff):
    assert support_staff.get_all_permissions() == EXPECTED
