"""Load a realistic demo catalog: users, groups, ~25 models with versions in every stage, and history."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from activity.services import comment_on_version
from approvals import services as workflow
from catalog import services
from catalog.models import STAGE_ORDER, DataType, LockLevel, ModelVersion, RegisteredModel, Stage, TaskType
from catalog.permissions import Role
from core import clock as core_clock

PASSWORD = "demo"

USERS = [
    # username, first name, superuser, what they can do
    ("admin", "Ada", True, "superuser: everything, including /admin/"),
    ("alice", "Alice", False, "owner of most models: edit, collaborators"),
    ("bob", "Bob", False, "reviewer: approves and rejects stage changes"),
    ("carol", "Carol", False, "viewer: sees private models, changes nothing"),
    ("dave", "Dave", False, "no role: sees only organization-wide models"),
]

MODELS: list[tuple[str, str, str, str, list[str]]] = [
    (
        "Churn Predictor",
        "Predicts which subscribers cancel in the next 30 days from usage and billing history.",
        TaskType.CLASSIFICATION,
        DataType.TABULAR,
        ["retention", "tabular", "xgboost"],
    ),
    (
        "Card Fraud Detector",
        "Scores card transactions in real time; blocks above 0.92, reviews between 0.7 and 0.92.",
        TaskType.CLASSIFICATION,
        DataType.TABULAR,
        ["fraud", "payments", "realtime"],
    ),
    (
        "Support Ticket Router",
        "Routes incoming support tickets to one of 14 queues from subject and body text.",
        TaskType.CLASSIFICATION,
        DataType.TEXT,
        ["nlp", "support"],
    ),
    (
        "Product Search Ranker",
        "Learning-to-rank model re-ranking the top 200 search results per query.",
        TaskType.REGRESSION,
        DataType.TABULAR,
        ["search", "ranking"],
    ),
    (
        "Speech to Text (English)",
        "Conformer model transcribing call-center audio, 8 kHz, English.",
        TaskType.TRANSCRIPTION,
        DataType.AUDIO,
        ["speech", "asr", "calls"],
    ),
    (
        "Invoice Field Extractor",
        "Finds supplier, totals and due dates on scanned invoices.",
        TaskType.DETECTION,
        DataType.IMAGE,
        ["ocr", "finance", "documents"],
    ),
    (
        "Grocery Demand Forecast",
        "Daily demand per store and product for the next 14 days.",
        TaskType.REGRESSION,
        DataType.TABULAR,
        ["forecasting", "supply-chain"],
    ),
    (
        "Review Sentiment",
        "Positive / neutral / negative sentiment of product reviews in 9 languages.",
        TaskType.CLASSIFICATION,
        DataType.TEXT,
        ["nlp", "reviews"],
    ),
    (
        "Customer Lifetime Value",
        "Expected 24-month revenue per customer, used by marketing budgets.",
        TaskType.REGRESSION,
        DataType.TABULAR,
        ["marketing", "tabular"],
    ),
    (
        "Toxicity Filter",
        "Flags abusive chat messages before they are shown to other players.",
        TaskType.CLASSIFICATION,
        DataType.TEXT,
        ["nlp", "trust-safety"],
    ),
    (
        "Image Moderation",
        "Detects nudity, violence and weapons in user-uploaded images.",
        TaskType.DETECTION,
        DataType.IMAGE,
        ["vision", "trust-safety"],
    ),
    (
        "Lead Scoring",
        "Ranks inbound sales leads by probability to convert within 90 days.",
        TaskType.CLASSIFICATION,
        DataType.TABULAR,
        ["sales", "tabular"],
    ),
    (
        "Price Elasticity",
        "Estimates demand response to price changes per product family.",
        TaskType.REGRESSION,
        DataType.TABULAR,
        ["pricing"],
    ),
    (
        "Payments Anomaly Detector",
        "Unsupervised detector of unusual payment flows between merchants.",
        TaskType.CLUSTERING,
        DataType.TABULAR,
        ["payments", "anomaly"],
    ),
    (
        "Translation EN-DE",
        "Transformer translating help-center articles from English to German.",
        TaskType.TRANSLATION,
        DataType.TEXT,
        ["nlp", "translation"],
    ),
    (
        "Home Feed Recommender",
        "Two-tower retrieval model for the home feed; 50M items.",
        TaskType.OTHER,
        DataType.TABULAR,
        ["recsys", "ranking"],
    ),
    (
        "Credit Risk Scorecard",
        "Probability of default for consumer credit applications (regulated).",
        TaskType.CLASSIFICATION,
        DataType.TABULAR,
        ["risk", "regulated"],
    ),
    (
        "Delivery ETA",
        "Predicts delivery time in minutes from order, courier and traffic features.",
        TaskType.REGRESSION,
        DataType.TABULAR,
        ["logistics"],
    ),
    (
        "Contract Clause Classifier",
        "Labels clauses of supplier contracts (liability, termination, payment...).",
        TaskType.CLASSIFICATION,
        DataType.TEXT,
        ["legal", "nlp", "documents"],
    ),
    (
        "License Plate Blur",
        "Finds and blurs license plates in street-level imagery.",
        TaskType.DETECTION,
        DataType.IMAGE,
        ["vision", "privacy"],
    ),
    (
        "Call Summarizer",
        "Summarises support calls into five bullet points for the CRM.",
        TaskType.OTHER,
        DataType.AUDIO,
        ["speech", "nlp", "calls"],
    ),
    (
        "Store Clustering",
        "Groups stores by sales profile to plan assortments.",
        TaskType.CLUSTERING,
        DataType.TABULAR,
        ["retail", "supply-chain"],
    ),
    (
        "Clinical Notes Transcriber",
        "Transcribes dictated clinical notes; runs on-premises only.",
        TaskType.TRANSCRIPTION,
        DataType.AUDIO,
        ["speech", "healthcare", "regulated"],
    ),
    (
        "Ad Click-Through Rate",
        "Predicts click probability for ad auctions; retrained daily.",
        TaskType.CLASSIFICATION,
        DataType.TABULAR,
        ["ads", "realtime"],
    ),
    (
        "Video Highlight Detector",
        "Finds highlight moments in sports streams for short clips.",
        TaskType.DETECTION,
        DataType.VIDEO,
        ["vision", "video"],
    ),
]

PRIVATE = {
    "Card Fraud Detector",
    "Credit Risk Scorecard",
    "Clinical Notes Transcriber",
    "Payments Anomaly Detector",
    "Contract Clause Classifier",
}
TWO_APPROVALS = {"Card Fraud Detector", "Credit Risk Scorecard", "Clinical Notes Transcriber"}
ADMIN_OWNED = {"Home Feed Recommender", "Ad Click-Through Rate", "Video Highlight Detector"}

COMMENTS = {
    Stage.DEVELOPMENT: [
        "Starting evaluation on the holdout set.",
        "Ready for peers to try.",
        "First candidate from the new feature pipeline.",
    ],
    Stage.STAGING: [
        "Offline metrics beat production by 2.1%; running release checks.",
        "Shadow traffic next.",
        "Load test passed at 3x peak.",
    ],
    Stage.PRODUCTION: [
        "A/B test won, p < 0.01. Rolling out.",
        "Approved by the risk committee.",
        "Replaces the previous version after a clean canary.",
    ],
    Stage.ARCHIVED: [
        "Superseded by a newer version.",
        "Retired: feature source deprecated.",
        "Kept for audit only.",
    ],
}

# Plain comments on versions, by who would write them.
NOTES = [
    ("bob", "Checked the calibration plot: well calibrated above 0.3."),
    ("bob", "Fairness report attached to the run; no group gap above 2 points."),
    ("alice", "Latency p99 is 38 ms on the serving cluster."),
    ("alice", "Retraining job scheduled weekly from here on."),
    ("bob", "Please keep the previous version warm for a week in case we roll back."),
]


class Clock:
    """The seed's own clock, so the demo history spreads over the past months instead of one instant.

    Each step is at most `step`, so `events` steps never pass the end of the window the clock was given.
    """

    def __init__(self, start: datetime, end: datetime, events: int) -> None:
        self.now = start
        self.step = (end - start) / max(events, 1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, rng: random.Random) -> None:
        self.now += self.step * rng.uniform(0.6, 1.0)


class Command(BaseCommand):
    help = "Load the demo catalog (users with password 'demo', groups, models, versions, history)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database has models.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and RegisteredModel.objects.exists():
            self.stdout.write("The database already has models; demo data not loaded.")
        elif RegisteredModel.objects.filter(name__in=[m[0] for m in MODELS]).exists():
            self.stdout.write("Demo models are already there; nothing loaded.")
        else:
            # Imported history sends no mail.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
                self._load()
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo logins (password for all: demo)"))
        for username, _, _, role in USERS:
            self.stdout.write(f"  {username:<6} {role}")

    def _load(self) -> None:
        rng = random.Random(20261126)
        users = self._users()
        platform = Group.objects.get_or_create(name="ml-platform")[0]
        reviewers = Group.objects.get_or_create(name="model-risk-reviewers")[0]
        platform.user_set.add(users["alice"])
        reviewers.user_set.add(users["bob"])
        end = timezone.now() - timedelta(minutes=30)
        for index, (name, description, task, data, labels) in enumerate(MODELS):
            start = end - timedelta(days=rng.uniform(60, 120))
            targets = self._stage_plan(rng.randint(3, 12), rng)
            # Clock steps: registration, collaborators, policy and open request (about 10), then per version its
            # registration, lock and comment, and per stage step a request and up to two approvals.
            events = 10 + sum(3 + 3 * STAGE_ORDER.index(target) for target in targets)
            clock = Clock(start, end, events)
            with core_clock.replaying(clock):
                owner = users["admin"] if name in ADMIN_OWNED else users["alice"]
                model = services.register_model(
                    actor=owner,
                    name=name,
                    description=description,
                    labels=labels,
                    task_type=task,
                    data_type=data,
                    visibility="private" if name in PRIVATE else "organization",
                )
                self._collaborators(model, owner, users, platform, reviewers, index, clock, rng)
                if name in TWO_APPROVALS:
                    model = workflow.set_approval_policy(actor=owner, model=model, required_approvals=2)
                self._versions(model, targets, users, clock, rng)
                if index % 3 != 2:
                    self._open_requests(model, users, clock, rng)
        self.stdout.write(self.style.SUCCESS(f"Loaded {len(MODELS)} models."))

    def _users(self) -> dict[str, Any]:
        user_model = get_user_model()
        users = {}
        for username, first_name, superuser, _ in USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "email": f"{username}@example.com",
                    "is_superuser": superuser,
                    "is_staff": superuser,
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save()
            users[username] = user
        return users

    def _collaborators(
        self,
        model: RegisteredModel,
        owner: Any,
        users: dict[str, Any],
        platform: Group,
        reviewers: Group,
        index: int,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        def add(**kwargs: Any) -> None:
            clock.advance(rng)
            services.add_collaborator(actor=owner, model=model, **kwargs)

        if owner != users["alice"]:
            add(user=users["alice"], role=Role.EDITOR)
        add(user=users["bob"], role=Role.REVIEWER) if index % 3 else add(group=reviewers, role=Role.REVIEWER)
        if model.visibility == "private" or index % 4 == 0:
            add(user=users["carol"], role=Role.VIEWER)
        if index % 5 == 1:
            add(group=platform, role=Role.EDITOR)

    def _versions(
        self,
        model: RegisteredModel,
        targets: list[Stage],
        users: dict[str, Any],
        clock: Clock,
        rng: random.Random,
    ) -> None:
        major = rng.randint(1, 3)
        for n, target in enumerate(targets):
            clock.advance(rng)
            version = services.register_version(
                actor=users["alice"],
                model=model,
                name=f"v{major}.{n}.{rng.randint(0, 4)}",
                description=f"Trained on data up to {clock.now:%B %Y}. "
                + rng.choice(
                    [
                        "Adds three new features from the event stream.",
                        "Retrained with class weights rebalanced.",
                        "Same architecture, larger training window.",
                        "Distilled from the previous large model; 4x faster.",
                        "Fixes the leakage found in the date features.",
                    ]
                ),
                labels=rng.sample(
                    ["baseline", "candidate", "gpu", "cpu", "distilled", "quantized", "weekly-retrain"],
                    k=rng.randint(0, 2),
                ),
                attributes={
                    "framework": rng.choice(["pytorch 2.4", "xgboost 2.1", "scikit-learn 1.5", "lightgbm 4.5"]),
                    "auc" if model.task_type == TaskType.CLASSIFICATION else "score": f"{rng.uniform(0.71, 0.97):.3f}",
                    "training_rows": f"{rng.randint(50, 9000) * 1000:,}",
                },
                artifact_uri=f"s3://ml-artifacts/{model.slug}/{n}/model.tar.gz",
                source_run_url=f"https://experiments.example.com/runs/{rng.randint(10000, 99999)}",
            )
            self._walk(version, target, users, clock, rng)
            if rng.random() < 0.5:
                clock.advance(rng)
                author, text = rng.choice(NOTES)
                comment_on_version(actor=users[author], version=version, comment=text)
            if target in (Stage.PRODUCTION, Stage.ARCHIVED) and rng.random() < 0.3:
                self._lock(version, users, clock, rng)

    @staticmethod
    def _stage_plan(count: int, rng: random.Random) -> list[Stage]:
        """Older versions are further along their lifecycle: the oldest archived, a few in production."""
        plan = []
        for n in range(count):
            age = (count - n) / count  # 1.0 for the oldest
            if age > 0.75:
                plan.append(Stage.ARCHIVED)
            elif age > 0.5:
                plan.append(Stage.PRODUCTION if rng.random() < 0.6 else Stage.ARCHIVED)
            elif age > 0.3:
                plan.append(Stage.STAGING)
            else:
                plan.append(rng.choice([Stage.UNASSIGNED, Stage.DEVELOPMENT, Stage.DEVELOPMENT]))
        return plan

    def _walk(
        self, version: ModelVersion, target: Stage, users: dict[str, Any], clock: Clock, rng: random.Random
    ) -> None:
        """Move version one stage at a time to target, each step requested by alice and approved."""
        for stage in STAGE_ORDER[1 : STAGE_ORDER.index(target) + 1]:
            clock.advance(rng)
            change_request = workflow.request_stage_change(
                actor=users["alice"], version=version, to_stage=stage, comment=rng.choice(COMMENTS[stage])
            )
            for reviewer in ("bob", "admin")[: change_request.required_approvals]:
                clock.advance(rng)
                workflow.approve_change_request(actor=users[reviewer], change_request=change_request)

    def _lock(self, version: ModelVersion, users: dict[str, Any], clock: Clock, rng: random.Random) -> None:
        clock.advance(rng)
        workflow.set_lock_level(
            actor=users["alice"],
            version=version,
            lock_level=rng.choice([LockLevel.CLOSED, LockLevel.CLOSED, LockLevel.REDACT]),
            comment="Frozen for the quarterly audit.",
        )

    def _open_requests(self, model: RegisteredModel, users: dict[str, Any], clock: Clock, rng: random.Random) -> None:
        """Leave the newest version with an open, rejected or cancelled request, as a live catalog has."""
        version = model.versions.order_by("-created_at").first()
        if version is None or version.is_locked or version.stage == Stage.ARCHIVED:
            return
        clock.advance(rng)
        following = STAGE_ORDER[STAGE_ORDER.index(Stage(version.stage)) + 1]
        target = Stage.PRODUCTION if version.stage == Stage.UNASSIGNED and rng.random() < 0.3 else following
        change_request = workflow.request_stage_change(
            actor=users["alice"],
            version=version,
            to_stage=target,
            comment=rng.choice(COMMENTS.get(target, ["Next step."])),
            archive_others=target == Stage.PRODUCTION,
        )
        outcome = rng.random()
        clock.advance(rng)
        if outcome < 0.2:
            workflow.reject_change_request(
                actor=users["bob"], change_request=change_request, comment="Holdout metrics are below the baseline."
            )
        elif outcome < 0.3:
            workflow.cancel_change_request(actor=users["alice"], change_request=change_request)
