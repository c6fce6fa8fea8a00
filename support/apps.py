from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support requests"

    def ready(self) -> None:
        from doi import history
        from support import staff_group
        from support.models import RequestEvent

        # A DOI's page shows the requests carried out on its repository (doi cannot ask us).
        history.register(RequestEvent.objects.for_doi_page)
        post_migrate.connect(staff_group.sync, sender=self, dispatch_uid="support_staff_group")
