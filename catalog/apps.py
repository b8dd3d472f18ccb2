from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog.card import CardTab, add_tab

        add_tab(CardTab(key="versions", label="Versions", url_name="catalog:model-detail", order=10))
        add_tab(CardTab(key="collaborators", label="Collaborators", url_name="catalog:model-collaborators", order=50))
