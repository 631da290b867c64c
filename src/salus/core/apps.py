from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salus.core"
    label = "core"

    def ready(self):
        # The audit table's append-only triggers: reinstalled after migrate, lifted for flush.
        from salus.core import auditseal

        auditseal.connect_signals()
