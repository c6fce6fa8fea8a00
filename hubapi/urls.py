"""The Hub API under /api/. Each area's views live in their own module of hubapi.views; the
catch-all stays last, so that every address not offered answers in the Hub's error shape."""

from django.urls import path, re_path, register_converter

from hubapi.access import RepoKindConverter
from hubapi.views import account, dois, fallback, lifecycle, repos_read, upload

app_name = "hubapi"

register_converter(RepoKindConverter, "repo_kind")

urlpatterns = [
    path("whoami-v2", account.whoami, name="whoami"),
    path("<repo_kind:repo_type>", repos_read.listing, name="list"),
    path("<repo_kind:repo_type>/<str:owner>/<str:name>", repos_read.repo_info, name="info"),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/revision/<str:revision>",
        repos_read.repo_info,
        name="info-at",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/tree/<str:revision>",
        repos_read.tree,
        name="tree",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/tree/<str:revision>/<path:path>",
        repos_read.tree,
        name="tree-path",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/commits/<str:revision>",
        repos_read.commits,
        name="commits",
    ),
    path("<repo_kind:repo_type>/<str:owner>/<str:name>/dois", dois.dois, name="dois"),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/dois/acknowledgement",
        dois.acknowledgement,
        name="dois-acknowledgement",
    ),
    path("repos/create", lifecycle.create, name="create-repo"),
    path("repos/delete", lifecycle.delete, name="delete-repo"),
    path("repos/move", lifecycle.move, name="move-repo"),
    path("validate-yaml", upload.validate_yaml, name="validate-yaml"),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/settings",
        lifecycle.settings,
        name="repo-settings",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/preupload/<str:revision>",
        upload.preupload,
        name="preupload",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/paths-info/<str:revision>",
        upload.paths_info,
        name="paths-info",
    ),
    path(
        "<repo_kind:repo_type>/<str:owner>/<str:name>/commit/<str:revision>",
        upload.commit,
        name="commit",
    ),
    # Last.
    re_path(r"^(?P<rest>.*)$", fallback.unsupported, name="unsupported"),
]
