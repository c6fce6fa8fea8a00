from django.urls import path, register_converter
from django.urls.converters import PathConverter

from repos import views
from repos.models import RepoType

app_name = "repos"


class StoredPathConverter(PathConverter):
    """A file path as stored, whatever it holds: Django's ``path`` stops at a line break, and a
    page that cannot link to one of its files would fail as a whole."""

    regex = "(?s:.+)"


register_converter(StoredPathConverter, "stored_path")


def repo_routes(prefix: str, repo_type: str) -> list:
    """The pages of one repository, named ``<type>-<page>`` (see ``Repo.url``)."""
    kwargs = {"repo_type": repo_type}
    base = f"{prefix}<str:owner>/<str:name>"
    return [
        path(base, views.repo_page, kwargs, name=f"{repo_type}-page"),
        path(f"{base}/tree/<str:rev>", views.repo_page, kwargs, name=f"{repo_type}-tree"),
        path(f"{base}/commits", views.commits, kwargs, name=f"{repo_type}-commits"),
        path(f"{base}/upload", views.upload, kwargs, name=f"{repo_type}-upload"),
        path(f"{base}/edit-card", views.edit_card, kwargs, name=f"{repo_type}-edit-card"),
        path(
            f"{base}/blob/<str:rev>/<stored_path:path>",
            views.blob,
            kwargs,
            name=f"{repo_type}-blob",
        ),
        path(f"{base}/settings", views.settings_page, kwargs, name=f"{repo_type}-settings"),
        path(f"{base}/settings/rename", views.rename, kwargs, name=f"{repo_type}-rename"),
        path(
            f"{base}/settings/visibility", views.visibility, kwargs, name=f"{repo_type}-visibility"
        ),
        path(f"{base}/settings/delete", views.delete, kwargs, name=f"{repo_type}-delete"),
    ]


urlpatterns = [
    path("models", views.listing, {"repo_type": RepoType.MODEL}, name="models"),
    path("datasets", views.listing, {"repo_type": RepoType.DATASET}, name="datasets"),
    path("new", views.create, {"repo_type": RepoType.MODEL}, name="new-model"),
    path("new-dataset", views.create, {"repo_type": RepoType.DATASET}, name="new-dataset"),
    *repo_routes("datasets/", RepoType.DATASET),
    *repo_routes("", RepoType.MODEL),
]
