from django.apps import AppConfig


class DoiConfig(AppConfig):
    name = "doi"
    verbose_name = "DOIs"

    def ready(self) -> None:
        from doi import (
            checks,  # noqa: F401  (registers the system checks)
            extensions,
        )
        from doi.owner_views import settings_slot
        from repos import extensions as slots

        slots.register("header", extensions.header)
        slots.register("banner", extensions.banner)
        slots.register("settings", settings_slot)
