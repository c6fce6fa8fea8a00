from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support requests"

    def ready(self) -> None:
        from doi import history
        from support.models import RequestEvent

        # A DOI's page shows the requests carried out on its repository (doi cannot ask us).
        history.register(RequestEvent.objects.for_doi_page)
