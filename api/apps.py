from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.http import HttpRequest, HttpResponse, JsonResponse

        from api.errors import error_body
        from core.http import register_error_renderer

        def render(request: HttpRequest, status: int, message: str) -> HttpResponse:
            return JsonResponse(error_body("invalid", message), status=status)

        register_error_renderer("/api/v1/", render)
