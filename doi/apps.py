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
        from repos import signals
        from repos import slots as repo_slots

        repo_slots.register("header", slots.header)
        repo_slots.register("banner", slots.banner)
        repo_slots.register("settings", settings_slot)
        repo_slots.register("head", slots.head)
        repo_slots.register("link", slots.link)
        repo_slots.register("cache_key", slots.cache_key)
        repo_slots.column(slots.HEAD_DOIS, slots.head_dois())

        signals.made_public.connect(_publish_drafts, dispatch_uid="doi-publish-drafts")
        signals.deleting.connect(_keep_drafts, dispatch_uid="doi-keep-drafts")
        signals.removed.connect(_delete_drafts, dispatch_uid="doi-delete-drafts")
        signals.foreseen.connect(_foresee_drafts, dispatch_uid="doi-foresee-drafts")
        signals.deleted.connect(_drafts_deleted, dispatch_uid="doi-drafts-deleted")
        signals.downloaded.connect(_count_download, dispatch_uid="doi-count-download")


def _publish_drafts(sender, *, repo, **kwargs) -> None:
    from doi.models import Doi

    Doi.objects.publish_drafts(repo)


def _keep_drafts(sender, *, repo, **kwargs) -> str:
    """A repository with draft DOIs stays as a tombstone while DataCite deletes them."""
    from doi.models import Doi

    drafts = Doi.objects.drafts().filter(repo=repo).order_by("number")
    names = ", ".join(d.doi for d in drafts)
    if not names:
        return ""
    return f"Its reserved DOI draft(s) {names} are deleted at DataCite; they never resolved."


def _delete_drafts(sender, *, repo, **kwargs) -> None:
    from doi.models import Doi

    Doi.objects.delete_drafts(repo)


def _foresee_drafts(sender, *, request, repo, action, **kwargs) -> str:
    from doi.owner_views import foreseen_for_drafts

    return foreseen_for_drafts(request, repo, action)


def _drafts_deleted(sender, *, repo, **kwargs) -> str:
    from doi.owner_views import drafts_after_delete

    return drafts_after_delete(repo)


def _count_download(sender, *, request, revision, path, by_api, **kwargs) -> None:
    from doi import usage

    usage.count_download(request, revision.pk, path, machine=by_api)
