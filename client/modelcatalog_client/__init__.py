"""Python client for Model Catalog's REST API, familiar to users of Verta's client.

from modelcatalog_client import Client, lock
from modelcatalog_client.stage_change import Production

client = Client("https://catalog.example.com", token)          # or MODELCATALOG_HOST / MODELCATALOG_TOKEN
model = client.get_registered_model("Churn Predictor")
model_ver = model.versions.find("stage == staging")[0]
change_request = model_ver.change_stage(Production("Rolling out to prod."))
change_request.wait(timeout=3600)                               # until a reviewer approves it
"""

from modelcatalog_client import lock, stage_change
from modelcatalog_client._version import VERSION
from modelcatalog_client.activity import ActivityEntry, ActivityLog
from modelcatalog_client.change_request import ChangeRequest, ChangeRequests, Review
from modelcatalog_client.client import Client
from modelcatalog_client.errors import (
    AuthenticationError,
    BadRequest,
    ChangeRequestEnded,
    ModelCatalogError,
    NetworkError,
    NotFound,
    PermissionDenied,
    RequestCancelled,
    RequestRejected,
    ServerError,
    WaitTimeout,
    WorkflowError,
)
from modelcatalog_client.registry import (
    RegisteredModel,
    RegisteredModels,
    RegisteredModelVersion,
    RegisteredModelVersions,
)

__version__ = VERSION

__all__ = [
    "ActivityEntry",
    "ActivityLog",
    "AuthenticationError",
    "BadRequest",
    "ChangeRequest",
    "ChangeRequestEnded",
    "ChangeRequests",
    "Client",
    "ModelCatalogError",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RegisteredModel",
    "RegisteredModelVersion",
    "RegisteredModelVersions",
    "RegisteredModels",
    "RequestCancelled",
    "RequestRejected",
    "Review",
    "ServerError",
    "WaitTimeout",
    "WorkflowError",
    "__version__",
    "lock",
    "stage_change",
]
