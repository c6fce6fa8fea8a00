from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_name_search(using, **kwargs) -> None:
    from django.db import connections

    from repos import name_search

    name_search.ensure(connections[using], create=False)


class ReposConfig(AppConfig):
    name = "repos"
    verbose_name = "Repositories"

    def ready(self) -> None:
        # SQLite's rebuild of repos_repo (any later AlterField) drops the index's triggers.
        post_migrate.connect(_ensure_name_search, sender=self)
