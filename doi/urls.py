from django.urls import path

from doi import views

app_name = "doi"

urlpatterns = [
    # Before the catch-all: a DOI always starts with "10.", so "cite/…", "badge/…" or
    # "linkset/…" is never one.
    path("cite/<path:value>", views.cite, name="cite"),
    path("badge/<path:value>.svg", views.badge, name="badge"),
    path("linkset/<path:value>", views.linkset, name="linkset"),
    path("<path:value>", views.resolve, name="resolve"),
]
