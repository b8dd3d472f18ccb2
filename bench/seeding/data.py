"""The names, texts and proportions of the synthetic catalog; bench/pages.py relies on the names."""

from __future__ import annotations

import json

from catalog.models import DataType, LockLevel, TaskType

BATCH = 2000
OWNER = "scale-owner"
EDITOR = "scale-editor"  # makes the seeded pending requests
REVIEWER = "scale-reviewer"  # may review every one of them
PASSWORD = "demo"
LABELS = [
    "nlp", "vision", "tabular", "speech", "ranking", "fraud", "forecasting", "recsys", "risk", "ads",
    "realtime", "batch", "gpu", "cpu", "regulated", "experimental", "team-a", "team-b", "team-c", "team-d",
]  # fmt: skip
TASKS = [t.value for t in TaskType]
DATA = [d.value for d in DataType]

# Padding of the activity log (--activity-entries): everyday events by a few dozen collaborators.
ACTORS = 40  # scale-user-01 … scale-user-40; model pk p has Editor number p % 40 and Reviewer (p + 17) % 40
REVIEWER_SHIFT = 17
RARE_WORD = "heteroscedastic"  # in about one comment in 700, for searches that must dig deep into the log
COMMENTS = [
    "Offline AUC matches the training run; ready for a staging soak.",
    "Latency p99 is 38 ms on the shadow fleet, well inside the budget.",
    "Re-ran the fairness checks on the new holdout: no regressions.",
    "Feature drift on session_length since the last client release; keep an eye on it.",
    "Canary healthy after 24 hours at 5% of traffic.",
    "Artifact rebuilt with the pinned tokenizer; checksums updated.",
    "Calibration is off in the top decile, recalibrating with isotonic regression.",
    "Shadow traffic disagrees with the Production version on 2.1% of requests.",
    "Memory footprint down to 1.2 GB after pruning.",
    "Needs sign-off from risk before it goes any further.",
    "Against the baseline: +0.8 pt recall at the same precision.",
    "Retrained on last month's data; metrics are on the run page.",
]
RARE_COMMENTS = [
    f"Residuals look {RARE_WORD} on the March holdout; trying a variance head before promoting.",
    f"{RARE_WORD.capitalize()} label noise from the annotation vendor again, see the data-quality ticket.",
]
REQUEST_COMMENTS = [
    "Evaluation report attached.",
    "Passed the offline checks.",
    "Rollback candidate while we investigate the incident.",
    "",
]
REJECTION_COMMENTS = [
    "Needs a longer canary first.",
    "Missing the fairness report.",
    "Over the latency budget in the load test.",
    "Please retrain on the new feature set.",
]
CANCELLATION_COMMENTS = ["Superseded by a newer version.", "Opened by mistake.", ""]
LOCK_LEVELS = [str(LockLevel.CLOSED.label), str(LockLevel.REDACT.label)]
LOCK_COMMENTS = ["Frozen for the quarterly audit.", "Locked while legal reviews the training data."]
UNLOCK_COMMENTS = ["Audit complete.", "Cleared by legal.", ""]
VERSION_FIELDS = [
    json.dumps({"fields": fields})
    for fields in (["description"], ["attributes"], ["labels"], ["artifact_uri"], ["description", "labels"])
]
MODEL_FIELDS = [
    json.dumps({"fields": fields}) for fields in (["description"], ["labels"], ["task_type", "description"])
]
# One unit of padding on a version: a comment, a request and its rejection or cancellation, an edit, or a lock raised
# and lowered again. No unit moves a stage, so every version stays where its logged moves put it.
UNIT_KINDS = ["comment"] * 13 + ["rejected", "rejected", "cancelled", "edited", "edited", "locked"]
PAIRS = {"rejected", "cancelled", "locked"}  # two entries each, the second 10 minutes to 5 hours after the first
MODEL_EDIT_SHARE = 0.04
MIN_WINDOW_DAYS = 20  # units of one version are spread evenly enough over this that no two pairs overlap
QUIET_DAYS = 5  # padding stops this long before now, before the seeded pending requests


def model_slug(number: int) -> str:
    """The slug of scale model number (from 1), which bench/pages.py builds the same way."""
    return f"scale-model-{number:05d}"


def actor_name(number: int) -> str:
    """The username of padding collaborator number (from 1 to ACTORS)."""
    return f"scale-user-{number:02d}"
