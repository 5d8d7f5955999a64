"""Jobs the controller runs (discovery, check-size, download): how their outcome is read (pure)."""

from __future__ import annotations

from typing import Any

from api.conditions import JobConditionType

JOB_API = "batch/v1"


def job_finished(job: dict[str, Any] | None) -> str:
    """The Job's final condition type (JobConditionType), "" while it runs."""
    for condition in ((job or {}).get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") in (JobConditionType.COMPLETE, JobConditionType.FAILED)
            and condition.get("status") == "True"
        ):
            return str(condition["type"])
    return ""


def job_failure_message(job: dict[str, Any]) -> str:
    """Why a Job failed: its Failed condition's message, else its reason."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == JobConditionType.FAILED and condition.get("status") == "True":
            return str(condition.get("message") or condition.get("reason") or "the Job failed")
    return "the Job failed"
