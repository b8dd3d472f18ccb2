from django.apps import AppConfig


class MlflowCompatConfig(AppConfig):
    name = "mlflow_compat"
    verbose_name = "MLflow-compatible API"

    def ready(self) -> None:
        from django.http import HttpRequest, HttpResponse

        from core.http import register_error_renderer
        from mlflow_compat.http import MlflowError, error_response

        def render(request: HttpRequest, status: int, message: str) -> HttpResponse:
            return error_response(MlflowError("INVALID_PARAMETER_VALUE", message))

        for prefix in ("/api/2.0/mlflow", "/api/3.0/mlflow"):
            register_error_renderer(prefix, render)
