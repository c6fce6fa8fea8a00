"""The site's URLs without the support app, to see the settings page do without it."""

from hubsite.urls import urlpatterns as site_urlpatterns

urlpatterns = [p for p in site_urlpatterns if getattr(p, "namespace", None) != "support"]
