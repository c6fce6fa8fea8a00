"""The "Support staff" group: exactly what handling support requests and repairing DOIs needs.

Staff in it see the hub's records in the admin, approve and carry out or reject support requests
(which changes locked repositories), retry, re-send or discard DOIs, and lift a log-in pause.
They change nothing else: no accounts, no repository fields, no other deletions. ``migrate``
creates the group and resets its permissions to this list every time, so a change belongs here,
not in the admin.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

NAME = "Support staff"
PERMISSIONS = {
    "support": ["view_supportrequest", "carry_out_supportrequest", "reject_supportrequest"],
    "repos": ["view_repo", "view_revision", "view_reporedirect", "override_repo_lock"],
    "doi": ["view_doi", "view_consent", "view_event", "retry_doi", "discard_doi"],
    "accounts": ["view_user", "view_organization", "view_membership", "view_namespace"],
    # Lifting a log-in pause early (django-axes): delete the person's access attempts.
    "axes": ["view_accessattempt", "delete_accessattempt"],
}


def sync(*, using: str = "default", **kwargs) -> Group:
    """Create the group, or set its permissions back to ``PERMISSIONS`` (a post_migrate hook)."""
    # post_migrate runs app by app: make sure every app's permissions exist already.
    for label in PERMISSIONS:
        create_permissions(global_apps.get_app_config(label), verbosity=0, using=using)
    wanted = Q()
    for label, codenames in PERMISSIONS.items():
        wanted |= Q(content_type__app_label=label, codename__in=codenames)
    permissions = list(Permission.objects.using(using).filter(wanted))
    missing = sum(map(len, PERMISSIONS.values())) - len(permissions)
    if missing:
        raise LookupError(f"{missing} of the “{NAME}” group's permissions do not exist.")
    group, _ = Group.objects.using(using).get_or_create(name=NAME)
    group.permissions.set(permissions)
    return group
