from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class HubAdminConfig(AdminConfig):
    """django.contrib.admin with the hub's own site: its name, and the staff's desk."""

    default_site = "hubsite.admin.HubAdminSite"
