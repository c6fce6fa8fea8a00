from django.apps import AppConfig


class DoiConfig(AppConfig):
    name = "doi"
    verbose_name = "DOIs"

    def ready(self) -> None:
        from doi import (
            checks,  # noqa: F401  (registers the system checks)
            slots,
        )
        from doi.owner_views import settings_slot
        from repos import slots as repo_slots

        repo_slots.register("header", slots.header)
        repo_slots.register("banner", slots.banner)
        repo_slots.register("settings", settings_slot)
        repo_slots.register("head", slots.head)
        repo_slots.register("link", slots.link)
