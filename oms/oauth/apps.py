from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "oms.oauth"
    label = "oauth"
    verbose_name = "API applications and tokens"
