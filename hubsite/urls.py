from django.contrib import admin
from django.urls import include, path

from repos import views as repo_views

urlpatterns = [
    path("", repo_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("hubapi.urls")),
    path("doi/", include("doi.urls")),
    path("support/", include("support.urls")),
    path("", include("accounts.urls")),
    # Before repos.urls: the DOI settings live under a repository's settings URL.
    path("", include("doi.owner_urls")),
    path("", include("hubapi.lfs_urls")),
    path("", include("repos.urls")),
    # After repos.urls, whose stored_path converter its addresses use.
    path("", include("hubapi.file_urls")),
    # Last: a user's or organization's page at /<name> would otherwise shadow the fixed pages.
    path("<str:name>", repo_views.namespace_page, name="namespace"),
]
