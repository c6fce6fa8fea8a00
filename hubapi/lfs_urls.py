"""The Git LFS addresses the client uses for large files, under ``<repo>.git/info/lfs/``."""

from django.urls import path

from hubapi.views import lfs
from repos.pages import PREFIXES

app_name = "hubapi-lfs"

urlpatterns = [
    route
    for repo_type, prefix in PREFIXES.items()
    for route in (
        path(
            f"{prefix}<str:owner>/<str:name>.git/info/lfs/objects/batch",
            lfs.batch,
            {"repo_type": repo_type},
            name=f"{repo_type}-batch",
        ),
        path(
            f"{prefix}<str:owner>/<str:name>.git/info/lfs/objects/verify",
            lfs.verify,
            {"repo_type": repo_type},
            name=f"{repo_type}-verify",
        ),
        path(
            f"{prefix}<str:owner>/<str:name>.git/info/lfs/objects/complete/<str:token>",
            lfs.complete,
            {"repo_type": repo_type},
            name=f"{repo_type}-complete",
        ),
    )
]
