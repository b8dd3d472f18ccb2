"""Every page of the app as the demo personas see it: the list the phone-layout and accessibility passes walk.

Add a page here when you add one (or a state of one that looks different: a form with errors, an open panel),
and it is checked at phone and desktop sizes with axe-core by `test_every_page.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from activity.services import comment_on_version
from approvals.models import StageChangeRequest, Status
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage, Visibility
from webhooks.models import State, Webhook
from webhooks.services import create_webhook

ORGANIZATION_MODEL = "churn-predictor"  # alice owns it; bob reviews it through the model-risk-reviewers group
PRIVATE_MODEL = "credit-risk-scorecard"  # carol is its viewer, dave has no role
DEMO_WEBHOOK_URL = "https://93.184.215.14/hooks/model-catalog"


@dataclass(frozen=True)
class PageVisit:
    """One page, as one demo user (None: signed out) sees it, and the status it answers with."""

    name: str  # unique; names the test's screenshots
    user: str | None
    path: str
    status: int = 200


def _version_url(version: ModelVersion, **query: str) -> str:
    url = reverse("catalog:version-detail", args=[version.model.slug, version.name])
    return f"{url}?{urlencode(query)}" if query else url


def demo_pages() -> list[PageVisit]:
    """The pages to check, with URLs read from the demo catalog (load it first: the `demo_catalog` fixture)."""
    model = RegisteredModel.objects.get(slug=ORGANIZATION_MODEL)
    private = RegisteredModel.objects.get(slug=PRIVATE_MODEL)
    assert private.visibility == Visibility.PRIVATE
    pending = (
        StageChangeRequest.objects.filter(status=Status.PENDING, version__model=model)
        .select_related("version__model")
        .get()
    )
    requested = pending.version
    idle = (
        model.versions.exclude(pk=requested.pk)
        .exclude(stage=Stage.PRODUCTION)
        .filter(lock_level=LockLevel.OPEN)
        .first()
    )
    assert idle is not None, "the demo model has no open version without a request"
    slug = model.slug
    # The demo has no webhook (its receiver would be on the Internet): one in test mode, which sends nothing.
    webhook = Webhook.objects.filter(model=model).first()
    if webhook is None:
        webhook, _ = create_webhook(
            actor=model.owner, model=model, url=DEMO_WEBHOOK_URL, description="Release pipeline", state=State.TEST
        )
        comment_on_version(actor=model.owner, version=idle, comment="Logged for the webhook in test mode.")

    def card(tab: str) -> str:
        return reverse(tab, args=[slug])

    return [
        PageVisit("login", None, reverse("login")),
        # alice: the owner of most models
        PageVisit("home", "alice", reverse("catalog:home")),
        PageVisit("catalog", "alice", reverse("catalog:model-list")),
        PageVisit("catalog-filtered", "alice", f"{reverse('catalog:model-list')}?stage=production&label=xgboost"),
        PageVisit("catalog-empty", "alice", f"{reverse('catalog:model-list')}?q=no-such-model-anywhere"),
        PageVisit("model-versions-tab", "alice", card("catalog:model-detail")),
        PageVisit("model-activity-tab", "alice", card("activity:model-activity")),
        PageVisit("model-pending-tab", "alice", card("approvals:model-pending")),
        PageVisit("model-history-tab", "alice", card("activity:model-history")),
        PageVisit("model-history-tab-as-of", "alice", f"{card('activity:model-history')}?at=2026-01-01T12:00"),
        PageVisit("model-collaborators-tab", "alice", card("catalog:model-collaborators")),
        PageVisit("model-webhooks-tab", "alice", card("webhooks:model-webhooks")),
        PageVisit("webhook-detail", "alice", reverse("webhooks:webhook-detail", args=[slug, webhook.pk])),
        PageVisit("version-requested", "alice", _version_url(requested)),
        PageVisit("version-request-panel", "alice", _version_url(idle, to_stage=Stage.PRODUCTION)),
        PageVisit("version-list", "alice", reverse("catalog:version-list")),
        PageVisit("version-list-find", "alice", f"{reverse('catalog:version-list')}?find=stage+%3D%3D+production"),
        PageVisit("version-list-find-error", "alice", f"{reverse('catalog:version-list')}?find=stage+%3D%3D"),
        PageVisit("model-register", "alice", reverse("catalog:model-register")),
        PageVisit("model-edit", "alice", card("catalog:model-edit")),
        PageVisit("version-register", "alice", card("catalog:version-register")),
        PageVisit("version-edit", "alice", reverse("catalog:version-edit", args=[slug, idle.name])),
        PageVisit("inbox-own-requests", "alice", reverse("approvals:inbox")),
        PageVisit("activity", "alice", reverse("activity:activity-list")),
        PageVisit("activity-filtered", "alice", f"{reverse('activity:activity-list')}?kind=stage_change_requested"),
        PageVisit("api-tokens", "alice", reverse("api-tokens")),
        PageVisit("profile", "alice", reverse("accounts:profile")),
        PageVisit("notifications-requester", "alice", reverse("notifications:list")),
        PageVisit(
            "compare",
            "alice",
            f"{card('catalog:version-compare')}?{urlencode({'a': requested.name, 'b': idle.name})}",
        ),
        PageVisit("compare-choose", "alice", f"{card('catalog:version-compare')}?{urlencode({'a': idle.name})}"),
        # bob: a reviewer
        PageVisit("inbox-reviewer", "bob", reverse("approvals:inbox")),
        PageVisit("version-to-review", "bob", _version_url(requested)),
        PageVisit("model-pending-tab-reviewer", "bob", card("approvals:model-pending")),
        PageVisit("notifications-reviewer", "bob", reverse("notifications:list")),
        # carol: a viewer of the private model
        PageVisit("model-card-viewer", "carol", reverse("catalog:model-detail", args=[private.slug])),
        PageVisit("collaborators-viewer", "carol", reverse("catalog:model-collaborators", args=[private.slug])),
        PageVisit("forbidden", "carol", reverse("catalog:model-edit", args=[private.slug]), status=403),
        PageVisit("webhooks-forbidden", "bob", card("webhooks:model-webhooks"), status=403),
        # dave: no role
        PageVisit("catalog-outsider", "dave", reverse("catalog:model-list")),
        PageVisit("not-found-private", "dave", reverse("catalog:model-detail", args=[private.slug]), status=404),
        PageVisit("not-found", "dave", "/no-such-page/", status=404),
    ]


def framework_pages() -> list[PageVisit]:
    """Pages drawn by the frameworks rather than our templates (the admin, the API docs): the CSP must let them work
    too, though their layout and accessibility are not ours to check."""
    model = RegisteredModel.objects.get(slug=ORGANIZATION_MODEL)
    version = model.versions.first()
    assert version is not None
    return [
        PageVisit("admin-index", "admin", reverse("admin:index")),
        PageVisit("admin-models", "admin", reverse("admin:catalog_registeredmodel_changelist")),
        PageVisit("admin-model", "admin", reverse("admin:catalog_registeredmodel_change", args=[model.pk])),
        PageVisit("admin-version", "admin", reverse("admin:catalog_modelversion_change", args=[version.pk])),
        PageVisit("admin-activity", "admin", reverse("admin:activity_activityentry_changelist")),
        PageVisit("admin-activity-filtered", "admin", f"{reverse('admin:activity_activityentry_changelist')}?q=prod"),
        PageVisit("admin-webhooks", "admin", reverse("admin:webhooks_webhook_changelist")),
        PageVisit("admin-webhook-add", "admin", reverse("admin:webhooks_webhook_add")),
        PageVisit("api-docs", "admin", "/api/v1/docs"),
    ]
