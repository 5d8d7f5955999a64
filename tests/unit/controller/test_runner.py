"""The one reconcile pipeline: what it writes for a plan, in which order, and what it skips
(paused objects, children already as desired, unchanged status), with finalizers and clean-up
taken from the kind's descriptor. The API server is a recording fake (pure-logic test); the real
pipeline runs against kube-apiserver in tests/integration."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from api import labels
from api.stored import read_template
from controller.kube.client import Kube
from controller.kube.errors import AdmissionUnavailableError, admission_unavailable
from controller.pipeline.apply import with_applied_hash
from controller.pipeline.plan import Event, ObjectRef, Plan
from controller.runner import Context, Kind, Reconciler, Serialised, Stage, carry_out
from controller.settings import ControllerSettings

NOW = "2026-11-23T12:00:00Z"
FINALIZER = "example.com/cleanup"


@dataclass
class RecordingKube:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.objects.get(name)

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("apply", obj["kind"], obj["metadata"]["name"]))
        return obj

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        self.calls.append(("delete", kind, name))

    def set_finalizers(self, obj: dict[str, Any], finalizers: list[str]) -> None:
        self.calls.append(("finalizers", *finalizers))

    def patch_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        self.calls.append(("status", status.get("status", "")))

    def event(self, regarding: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        self.calls.append(("event", event_type, reason))


def thing(name: str = "x", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMService",
        "metadata": {"name": name, "namespace": "team", "resourceVersion": "1", **metadata},
        "status": {"status": "Pending"},
    }


@dataclass
class Observed:
    children: dict[str, dict[str, Any]] = field(default_factory=dict)

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.children.get(name)


CHILD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}, "data": {"a": "1"}}


def run(obj: dict[str, Any], plan: Plan, observed: Observed | None = None, **kind: Any) -> RecordingKube:
    kube = RecordingKube({obj["metadata"]["name"]: obj})
    descriptor = Kind(
        "AIMService",
        "v1alpha2",
        Stage(lambda ctx, o: observed or Observed(), lambda observation, now: plan),
        **kind,
    )
    Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings()), now=lambda: NOW).reconcile("team", "x")
    return kube


def test_a_plan_is_carried_out_in_order() -> None:
    plan = Plan(
        apply=[CHILD],
        delete=[ObjectRef("v1", "ConfigMap", "old", "team")],
        status={"status": "Ready"},
        events=[Event("Normal", "Ready", "ok")],
        finalizers=["f"],
    )
    kube = run(thing(), plan)
    assert kube.calls == [
        ("apply", "ConfigMap", "c"),
        ("delete", "ConfigMap", "old"),
        ("finalizers", "f"),
        ("status", "Ready"),
        ("event", "Normal", "Ready"),
    ]


@pytest.mark.parametrize(
    ("existing", "applied"),
    [
        pytest.param(None, True, id="missing"),
        pytest.param(with_applied_hash(CHILD), False, id="as-desired"),
        pytest.param(with_applied_hash(CHILD) | {"data": {"a": "2"}}, True, id="changed-by-someone-else"),
        pytest.param(CHILD, True, id="applied-by-an-older-version-without-hash"),
    ],
)
def test_children_already_as_desired_are_not_written(existing: dict[str, Any] | None, applied: bool) -> None:
    kube = run(thing(), Plan(apply=[CHILD]), Observed({"c": existing} if existing else {}))
    assert (("apply", "ConfigMap", "c") in kube.calls) is applied


def test_an_unchanged_status_and_finalizers_are_not_written() -> None:
    kube = run(thing(finalizers=["f"]), Plan(status={"status": "Pending"}, finalizers=["f"]))
    assert kube.calls == []


def test_a_paused_object_is_left_alone() -> None:
    paused = thing(annotations={labels.RECONCILIATION_PAUSED: "true"})
    assert run(paused, Plan(apply=[CHILD], status={"status": "Ready"})).calls == []


def test_a_gone_object_is_nothing_to_do() -> None:
    kube = RecordingKube()
    descriptor = Kind("AIMService", "v1alpha2", Stage(lambda c, o: pytest.fail("fetched"), lambda o, n: Plan()))
    assert Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings())).reconcile("team", "x") is None


def test_requeue_after_comes_from_the_plan() -> None:
    kube = RecordingKube({"x": thing()})
    descriptor = Kind("AIMService", "v1alpha2", Stage(lambda c, o: Observed(), lambda o, n: Plan(requeue_after=7.0)))
    assert Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings())).reconcile("team", "x") == 7.0


def test_the_finalizer_is_added_before_anything_is_created() -> None:
    clean_up = Stage(lambda c, o: Observed(), lambda o, n: Plan(finalizers=[]))
    kube = run(thing(), Plan(apply=[CHILD]), finalizer=FINALIZER, clean_up=clean_up)
    assert kube.calls == [("finalizers", FINALIZER), ("apply", "ConfigMap", "c")]


@pytest.mark.parametrize(
    ("needed", "present", "expected"),
    [
        pytest.param(True, False, [("finalizers", FINALIZER), ("apply", "ConfigMap", "c")], id="needed-added-first"),
        pytest.param(False, False, [("apply", "ConfigMap", "c")], id="not-needed-not-written"),
        pytest.param(True, True, [("apply", "ConfigMap", "c")], id="needed-already-there"),
    ],
)
def test_a_finalizer_added_only_when_the_plan_needs_it(needed: bool, present: bool, expected: list[Any]) -> None:
    clean_up = Stage(lambda c, o: Observed(), lambda o, n: Plan(finalizers=[]))
    seen: list[Plan] = []

    def finalizer_needed(observed: Any, plan: Plan) -> bool:
        seen.append(plan)
        return needed

    obj = thing(finalizers=[FINALIZER]) if present else thing()
    kube = run(obj, Plan(apply=[CHILD]), finalizer=FINALIZER, clean_up=clean_up, finalizer_needed=finalizer_needed)
    assert kube.calls == expected
    assert present or seen[0].apply == [CHILD], "decided from the plan about to be carried out"


def test_a_deleted_object_runs_the_clean_up_which_removes_the_finalizer() -> None:
    deleted = thing(deletionTimestamp=NOW, finalizers=["other", FINALIZER])
    clean_up = Stage(
        lambda c, o: Observed(),
        lambda o, n: Plan(delete=[ObjectRef("v1", "ConfigMap", "left", "team")], finalizers=["other"]),
    )
    kube = run(deleted, Plan(apply=[CHILD]), finalizer=FINALIZER, clean_up=clean_up)
    assert kube.calls == [("delete", "ConfigMap", "left"), ("finalizers", "other")]


def test_a_deleted_object_without_our_finalizer_is_not_touched() -> None:
    deleted = thing(deletionTimestamp=NOW, finalizers=["other"])
    clean_up = Stage(lambda c, o: pytest.fail("cleaned up"), lambda o, n: Plan())
    assert run(deleted, Plan(apply=[CHILD]), finalizer=FINALIZER, clean_up=clean_up).calls == []


def test_carry_out_without_an_observation_of_children_applies_all() -> None:
    kube = RecordingKube()
    carry_out(cast(Kube, kube), thing(), Plan(apply=[CHILD]), object())
    assert kube.calls == [("apply", "ConfigMap", "c")]


UNREACHABLE = 'Internal error occurred: failed calling webhook "vaimmodel.aim.eai.amd.com": connection refused'


@dataclass
class RefusingKube(RecordingKube):
    """Refuses child writes as kube-apiserver does while an admission webhook cannot be called."""

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        raise AdmissionUnavailableError(UNREACHABLE)

    def patch_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        self.calls.append(("status",))
        self.conditions = {str(c["type"]): (str(c["status"]), str(c["reason"])) for c in status["conditions"]}


def test_a_child_refused_for_an_unreachable_webhook_is_said_on_status_and_retried() -> None:
    planned = {"status": "Pending", "conditions": [{"type": "Ready", "status": "False", "reason": "X"}]}
    kube = RefusingKube({"x": thing()})
    descriptor = Kind(
        "AIMService", "v1alpha2", Stage(lambda c, o: Observed(), lambda o, n: Plan([CHILD], status=planned))
    )
    with pytest.raises(AdmissionUnavailableError):  # the work queue retries with back-off
        Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings()), now=lambda: NOW).reconcile("team", "x")
    assert kube.calls == [("status",), ("event", "Warning", "AdmissionWebhookUnavailable")]
    assert kube.conditions == {
        "DependenciesReachable": ("False", "AdmissionWebhookUnavailable"),
        "Ready": ("False", "X"),
    }


def test_nothing_is_written_again_while_the_webhook_stays_unreachable() -> None:
    first = RefusingKube()
    planned = {"status": "Pending"}
    with pytest.raises(AdmissionUnavailableError):
        carry_out(cast(Kube, first), thing(), Plan(apply=[CHILD], status=planned), Observed(), NOW)
    reported = thing()
    reported["status"] = planned | {
        "conditions": [
            {
                "type": "DependenciesReachable",
                "status": "False",
                "reason": "AdmissionWebhookUnavailable",
                "message": UNREACHABLE,
                "lastTransitionTime": NOW,
            }
        ]
    }
    again = RefusingKube()
    with pytest.raises(AdmissionUnavailableError):
        carry_out(cast(Kube, again), reported, Plan(apply=[CHILD], status=planned), Observed(), NOW)
    assert again.calls == []


@pytest.mark.parametrize(
    ("status", "body", "unavailable"),
    [
        pytest.param(500, '{"message": "' + UNREACHABLE.replace('"', '\\"') + '"}', True, id="webhook-unreachable"),
        pytest.param(500, '{"message": "etcdserver: request timed out"}', False, id="other-server-error"),
        pytest.param(400, '{"message": "admission webhook \\"vaimmodel\\" denied the request"}', False, id="denied"),
        pytest.param(500, "failed calling webhook (not JSON)", True, id="plain-text-body"),
        pytest.param(500, None, False, id="no-body"),
    ],
)
def test_which_refusals_mean_an_unreachable_webhook(status: int, body: str | None, unavailable: bool) -> None:
    assert (admission_unavailable(status, body) is not None) is unavailable


@pytest.mark.parametrize(("applies", "most_at_once"), [(True, 1), (False, 4)], ids=["serialised", "free"])
def test_a_serialised_group_reconciles_one_object_at_a_time(applies: bool, most_at_once: int) -> None:
    """Four workers reconcile four objects whose fetch waits for company: in a serialised group
    they never overlap (the discovery-slot count stays exact), otherwise all four meet."""
    objects = {f"x{i}": thing(f"x{i}") for i in range(4)}
    kube = RecordingKube(objects)
    inside, most = [0], [0]
    lock, everyone = threading.Lock(), threading.Barrier(4, timeout=1)

    def fetch(ctx: Context, obj: dict[str, Any]) -> Observed:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        with contextlib.suppress(threading.BrokenBarrierError):
            everyone.wait()  # free: all four arrive; serialised: times out alone
        with lock:
            inside[0] -= 1
        return Observed()

    group = Serialised("test", lambda obj: applies)
    descriptor = Kind("AIMService", "v1alpha2", Stage(fetch, lambda observation, now: Plan()), serialised=group)
    reconciler = Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings()), now=lambda: NOW)
    workers = [threading.Thread(target=reconciler.reconcile, args=("team", name)) for name in objects]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert most[0] == most_at_once


def unreadable_template() -> dict[str, Any]:
    """Stored past admission (webhook down, or a CRD newer than the controller) with a GPU count
    the model refuses."""
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "x", "namespace": "team", "generation": 3, "resourceVersion": "1"},
        "spec": {"modelName": "qwen", "hardware": {"gpu": {"requests": "lots"}}, "futureField": 1},
    }


def test_an_object_the_api_model_refuses_is_said_on_status_naming_the_field() -> None:
    stored = unreadable_template()
    kube = RecordingKube({"x": stored})
    written: list[dict[str, Any]] = []
    kube.patch_status = lambda obj, status: written.append(status)  # type: ignore[method-assign]
    descriptor = Kind(
        "AIMServiceTemplate",
        "v1alpha1",
        Stage(lambda ctx, obj: read_template(obj), lambda observation, now: Plan(status={"status": "Ready"})),
    )
    reconciler = Reconciler(descriptor, Context(cast(Kube, kube), ControllerSettings()), now=lambda: NOW)
    assert reconciler.reconcile("team", "x") is None
    (status,) = written
    (valid,) = status["conditions"]
    assert (valid["type"], valid["status"], valid["reason"]) == ("ConfigValid", "False", "InvalidSpec")
    assert "spec.hardware.gpu.requests" in valid["message"]
    assert "futureField" not in valid["message"]  # unknown fields are ignored, not refused
    assert valid["observedGeneration"] == 3
    assert kube.calls == [("event", "Warning", "InvalidSpec")]
    stored["status"] = status  # the same object again: nothing more is written or said
    kube.calls.clear()
    reconciler.reconcile("team", "x")
    assert kube.calls == []
    assert len(written) == 1
