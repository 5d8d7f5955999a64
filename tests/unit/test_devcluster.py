"""Pure pieces of the local control plane: node manifests, kwok stages, log routing, waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from devcluster import kwok
from devcluster.logrouter import log_file_for, write_log_file
from devcluster.nodes import DEFAULT_NODES_FILE, FakeNode, load_node_set
from devcluster.processes import ManagedProcess, process_group_alive
from devcluster.waiting import DeadlineExceededError, StopWaitingError, wait_until


@pytest.mark.parametrize(
    ("model", "device_id", "vram"),
    [
        ("MI300X", "74a1", "192G"),
        ("MI350X", "75a0", "288G"),
        ("MI325X", "74a5", "256G"),
        ("MI210", "740f", "64G"),
    ],
    ids=["mi300x", "mi350x", "mi325x", "mi210"],
)
def test_gpu_node_labels_follow_the_model(model: str, device_id: str, vram: str) -> None:
    labels = FakeNode(name="n", gpu_model=model, gpu_count=8).labels()
    assert labels["amd.com/gpu.device-id"] == device_id
    assert labels["amd.com/gpu.vram"] == vram
    assert labels[f"feature.node.kubernetes.io/aim-accelerator.{model}"] == "true"


def test_cpu_node_has_no_gpu_labels_or_resources() -> None:
    node = FakeNode(name="cpu", cpu="8", memory="32Gi")
    assert not any(k.startswith("amd.com/") for k in node.labels())
    assert node.resources() == {"cpu": "8", "memory": "32Gi", "pods": "110"}


def test_unknown_gpu_model_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"gpuModel 'H100' is not one of .*MI300X"):
        FakeNode(name="x", gpu_model="H100").labels()


def test_node_manifest_is_kwok_managed_with_gpu_capacity() -> None:
    manifest = FakeNode(name="g", gpu_model="MI300X", gpu_count=4, extra_labels={"team": "a"}).manifest()
    assert manifest["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}
    assert manifest["metadata"]["labels"]["team"] == "a"
    assert manifest["status"]["allocatable"]["amd.com/gpu"] == "4"


def test_default_node_set_has_mi300x_and_mi350x() -> None:
    models = {n.gpu_model for n in load_node_set(DEFAULT_NODES_FILE)}
    assert {"MI300X", "MI350X"} <= models


def test_node_file_rejects_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "nodes.yaml"
    path.write_text("nodes:\n- name: a\n  gpus: 3\n")
    with pytest.raises(ValueError, match="gpus"):
        load_node_set(path)


def test_stage_config_has_our_outcome_stages(tmp_path: Path) -> None:
    stage_root = tmp_path / "kustomize" / "stage"
    for relative in kwok._SHIPPED_STAGES:
        (stage_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (stage_root / relative).write_text(f"kind: Stage\nmetadata:\n  name: {Path(relative).stem}\n")
    docs = list(yaml.safe_load_all(kwok.stage_config(tmp_path)))
    by_name = {d["metadata"]["name"]: d for d in docs}
    assert {"node-initialize", "pod-ready", "pod-delete", "aim-pod-succeed", "aim-pod-fail"} <= set(by_name)
    fail = by_name["aim-pod-fail"]["spec"]
    outcome = [e for e in fail["selector"]["matchExpressions"] if kwok.OUTCOME_ANNOTATION in e["key"]]
    assert outcome == [
        {"key": f'.metadata.annotations["{kwok.OUTCOME_ANNOTATION}"]', "operator": "In", "values": ["Failed"]}
    ]
    assert "phase: Failed" in fail["next"]["statusTemplate"]
    assert kwok.EXIT_CODE_ANNOTATION in fail["next"]["statusTemplate"]
    succeed = by_name["aim-pod-succeed"]["spec"]
    assert '$exitCode := "0"' in succeed["next"]["statusTemplate"]


@pytest.mark.parametrize(
    ("pod", "labels", "expected"),
    [
        ("discover-abcde", {"batch.kubernetes.io/job-name": "discover"}, "ns/discover.log"),
        ("legacy-xyz", {"job-name": "legacy"}, "ns/legacy.log"),
        ("bare", {}, "ns/bare.log"),
    ],
    ids=["job-label", "legacy-job-label", "bare-pod"],
)
def test_log_file_is_named_after_the_job_or_pod(pod: str, labels: dict[str, str], expected: str) -> None:
    assert log_file_for(Path("/logs"), "ns", pod, labels) == Path("/logs") / expected


def test_log_file_is_written_in_cri_format(tmp_path: Path) -> None:
    path = tmp_path / "ns" / "job.log"
    write_log_file(path, "first\nsecond")
    lines = path.read_text().splitlines()
    assert [line.split(" ", 3)[1:] for line in lines] == [["stdout", "F", "first"], ["stdout", "F", "second"]]


def test_wait_until_returns_the_first_truthy_value() -> None:
    calls = iter([None, False, "yes"])
    assert wait_until(lambda: next(calls), timeout=5, what="x", interval=0.01) == "yes"


def test_wait_until_names_what_it_waited_for_and_the_last_error() -> None:
    def broken() -> None:
        raise ConnectionRefusedError("nope")

    with pytest.raises(DeadlineExceededError, match=r"waiting for the thing .*ConnectionRefusedError"):
        wait_until(broken, timeout=0.2, what="the thing", interval=0.05)


def test_stop_kills_the_whole_process_group_and_nothing_else(tmp_path: Path) -> None:
    # The child starts a grandchild in the same group; both must go, this test process must not.
    script = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    process = ManagedProcess("sleeper", [sys.executable, "-c", script], tmp_path / "log")
    process.start()
    wait_until(lambda: len(_group_members(process.pid)) == 2, 10, "grandchild to start")
    process.stop(grace=5)
    assert not process_group_alive(process.pid)
    assert os.getpid() > 0


def _group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    # A supervisor that is SIGKILLed cannot clean up; the kernel's parent-death signal must.
    pid_file = tmp_path / "child.pid"
    supervisor = (
        "import sys, time; from pathlib import Path; from devcluster.processes import ManagedProcess\n"
        f"p = ManagedProcess('c', ['sleep', '60'], Path({str(tmp_path / 'log')!r})); p.start()\n"
        f"Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", supervisor])
    child = int(wait_until(lambda: (pid_file.exists() and pid_file.read_text()) or None, 10, "child pid"))
    parent.kill()
    parent.wait()
    wait_until(lambda: not process_group_alive(child), 10, "orphaned child to be terminated")
    time.sleep(0)


def test_wait_until_gives_up_at_once_when_the_probe_says_so() -> None:
    def exited() -> None:
        raise StopWaitingError("etcd exited with 1")

    started = time.monotonic()
    with pytest.raises(StopWaitingError, match="etcd exited"):
        wait_until(exited, timeout=30, what="etcd")
    assert time.monotonic() - started < 1


def test_free_ports_are_distinct() -> None:
    from devcluster.controlplane import free_ports

    for _ in range(20):
        ports = free_ports(4)
        assert len(set(ports)) == 4
