"""The Hub API under /api/. Each area's views live in their own module of hubapi.views; the
catch-all stays last, so that every address not offered answers in the Hub's error shape."""

from django.urls import path, re_path, register_converter

from hubapi.access import RepoKindConverter
from hubapi.views import account, fallback

app_name = "hubapi"

register_converter(RepoKindConverter, "repo_kind")

urlpatterns = [
    path("whoami-v2", account.whoami, name="whoami"),
    # Last.
    re_path(r"^(?P<rest>.*)$", fallback.unsupported, name="unsupported"),
]
