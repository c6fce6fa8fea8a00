from django.urls import path

from doi import owner_views as views
from repos.models import RepoType

app_name = "doi-owner"


def owner_routes(prefix: str, repo_type: str) -> list:
    """The DOI settings of a repository, under its settings URL (``owner_views.owner_url``)."""
    kwargs = {"repo_type": repo_type}
    base = f"{prefix}<str:owner>/<str:name>/settings/doi"
    return [
        path(base, views.section, kwargs, name=f"{repo_type}-section"),
        path(f"{base}/generate", views.generate, kwargs, name=f"{repo_type}-generate"),
        path(f"{base}/<int:pk>/retry", views.retry, kwargs, name=f"{repo_type}-retry"),
    ]


urlpatterns = [
    *owner_routes("datasets/", RepoType.DATASET),
    *owner_routes("", RepoType.MODEL),
]
