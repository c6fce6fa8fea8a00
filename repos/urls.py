from django.urls import path, register_converter
from django.urls.converters import PathConverter

from repos import pages, views
from repos.models import RepoType

app_name = "repos"


class StoredPathConverter(PathConverter):
    """A file path as stored, whatever it holds: Django's ``path`` stops at a line break, and a
    page that cannot link to one of its files would fail as a whole."""

    regex = "(?s:.+)"


register_converter(StoredPathConverter, "stored_path")


urlpatterns = [
    path("models", views.listing, {"repo_type": RepoType.MODEL}, name="models"),
    path("datasets", views.listing, {"repo_type": RepoType.DATASET}, name="datasets"),
    path("new", views.create, {"repo_type": RepoType.MODEL}, name="new-model"),
    path("new-dataset", views.create, {"repo_type": RepoType.DATASET}, name="new-dataset"),
    # The pages of one repository, named ``<type>-<page>`` (see ``Repo.url``).
    *pages.routes(
        ("", views.repo_page, "page"),
        ("tree/<str:rev>", views.repo_page, "tree"),
        ("commits", views.commits, "commits"),
        ("commit/<str:rev>", views.commit, "commit"),
        ("upload", views.upload, "upload"),
        ("upload/large", views.upload_large, "upload-large"),
        ("edit-card", views.edit_card, "edit-card"),
        ("blob/<str:rev>/<stored_path:path>", views.blob, "blob"),
        ("settings", views.settings_page, "settings"),
        ("settings/rename", views.rename, "rename"),
        ("settings/visibility", views.visibility, "visibility"),
        ("settings/delete", views.delete, "delete"),
    ),
]
