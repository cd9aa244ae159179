from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "oms.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
