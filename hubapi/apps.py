from django.apps import AppConfig


class HubApiConfig(AppConfig):
    name = "hubapi"
    verbose_name = "Hub API"
