"""The data plane on the real node: KServe's controller acting on the InferenceService, the download
Jobs running `aim-download` from the project's image against the Hugging Face look-alike and the S3
server on this host (reached from the pods at the node's address), into hostPath volumes the kubelet
mounts, and the test model-server image answering a chat completion from the downloaded cache.

Nothing here writes a status by hand: every state is what the controller, the downloader, the
kubelet and KServe made of the real thing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devcluster import images
from devcluster.controlplane import ControlPlane
from devcluster.hostnet import NODE_IP
from devcluster.realnode import NODE_NAME
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl
from tests.realnode.support import SYSTEM_NAMESPACE, V1, V2, ensure_installed, wait_service_state
from tests.servers.fixtures import HF_TOKEN, HfServer, MiB, S3Server, hub_with_repositories, s3_with_buckets

NAMESPACE = "team-chain"
MODEL_ID = "acme/big"
"""One 24 MiB file in the hub look-alike (tests/servers/fixtures.py)."""
THROUGHPUT_BYTES = 64 * MiB
WRONG_TOKEN = "hf_wrongtoken9876543210fedcba"


@pytest.fixture(scope="module")
def plane(real_plane: ControlPlane, admin: Kubectl) -> Iterator[ControlPlane]:
    """The chart installed, KServe's controller running, a namespace for this module."""
    ensure_installed(real_plane, admin)
    kserve = real_plane.start_kserve()
    admin("create", "namespace", NAMESPACE, check=False)
    try:
        yield real_plane
    finally:
        kserve.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfServer]:
    with hub_with_repositories(tmp_path_factory.mktemp("hub"), host=NODE_IP) as server:
        large = server.root / "acme" / "large" / "weights.bin"
        large.parent.mkdir(parents=True)
        with large.open("wb") as out:
            for _ in range(THROUGHPUT_BYTES // (16 * MiB)):
                out.write(os.urandom(16 * MiB))
        yield server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_with_buckets(tmp_path_factory.mktemp("s3"), host=NODE_IP) as server:
        yield server


@pytest.fixture(scope="module")
def only_the_real_node(plane: ControlPlane, admin: Kubectl) -> Iterator[None]:
    """The simulated nodes cordoned: an artifact made by hand has no GPU placement, and its Jobs
    must run here, not complete by simulation on a kwok node."""
    simulated = [n["metadata"]["name"] for n in admin.get_json("nodes")["items"] if n["metadata"]["name"] != NODE_NAME]
    admin("cordon", *simulated)
    try:
        yield
    finally:
        admin("uncordon", *simulated)


@pytest.fixture(scope="module")
def team(plane: ControlPlane, hub: HfServer, only_the_real_node: None) -> Kubectl:
    """kubectl in the namespace, whose runtime config points downloads at the hub look-alike, as a
    platform team points them at its mirror."""
    kubectl = Kubectl(plane, NAMESPACE)
    config = {"apiVersion": V1, "kind": "AIMRuntimeConfig", "metadata": {"name": "default"}}
    # A progress report every second (the downloader's default is 5 s), so a short download shows some.
    env = [{"name": "HF_ENDPOINT", "value": hub.url}, {"name": "PROGRESS_INTERVAL", "value": "1"}]
    kubectl.apply(config | {"spec": {"env": env}})
    return kubectl


def tiny_model(team: Kubectl) -> str:
    """The model (the test model-server image) and its MI210 template, whose source has no size
    (the check-size Job finds it); the image."""
    assert team.plane.real_node is not None
    image = team.plane.real_node.pushed[images.MODEL_SERVER]
    model = {"image": image, "imageMetadata": {"model": {"canonicalName": MODEL_ID}}}
    team.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "tiny"}, "spec": model})
    template = {
        "modelName": "tiny",
        "metric": "latency",
        "precision": "fp16",
        "type": "optimized",
        "hardware": {"gpu": {"requests": 1, "models": ["MI210"]}},
        "modelSources": [{"modelId": MODEL_ID, "sourceUri": f"hf://{MODEL_ID}"}],
    }
    team.apply({"apiVersion": V1, "kind": "AIMServiceTemplate", "metadata": {"name": "tiny-mi210"}, "spec": template})
    return image


def artifact_named(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return kubectl.get_json("aimartifacts", name)


def wait_artifact(kubectl: Kubectl, name: str, state: str, timeout: float = 180) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def reached() -> bool:
        found = kubectl("get", "aimartifacts", name, "-o", "json", check=False)
        seen.clear()
        seen.update(json.loads(found.stdout) if found.returncode == 0 else {})
        return (seen.get("status") or {}).get("status") == state

    try:
        wait_until(reached, timeout, f"artifact {name} to be {state}", interval=0.5)
    except TimeoutError as error:
        raise AssertionError(f"{error}; last: {json.dumps(seen.get('status'), indent=1)}") from error
    return seen


def volume_directory(kubectl: Kubectl, claim: str) -> Path:
    """The host directory of a claim's volume (the simulated provisioner's hostPath)."""
    volume = kubectl.get_json("pvc", claim)["spec"]["volumeName"]
    return Path(kubectl.get_json("pv", volume)["spec"]["hostPath"]["path"])


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".cache" not in path.parts
    }


def job_pod_logs(kubectl: Kubectl, artifact: dict[str, Any]) -> str:
    """The logs of the artifact's Job pods, every one of which ran on the real node."""
    selector = f"aim.eai.amd.com/artifact.name={artifact['metadata']['name']}"
    pods = kubectl.get_json("pods", "-l", selector)["items"]
    assert pods, f"no pods of artifact {artifact['metadata']['name']}"
    assert {p["spec"].get("nodeName") for p in pods} == {NODE_NAME}, "a Job pod ran on a simulated node"
    return "\n".join(kubectl("logs", p["metadata"]["name"], check=False).stdout for p in pods)


def predictor_pods(kubectl: Kubectl, isvc: str) -> list[dict[str, Any]]:
    items = kubectl.get_json("pods", "-l", f"serving.kserve.io/inferenceservice={isvc}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def pod_ready(pod: dict[str, Any]) -> bool:
    return condition(pod.get("status") or {}, "Ready").get("status") == "True"


def test_whole_chain_from_apply_to_a_chat_completion(team: Kubectl, hub: HfServer) -> None:
    """model + template + service → template cache → artifact → check-size Job → download Job → PVC
    with the hub's bytes → InferenceService → KServe's Deployment → the model server mounting the
    cache → Ready → service Running → a chat completion; then scale, change env, delete."""
    # Slow enough that `kubectl get aimart` shows the download under way (about 6 s).
    hub.set_faults({"action": "throttle", "path": f"{MODEL_ID}/resolve/", "bytes_per_second": 4 * MiB})
    image = tiny_model(team)
    model_dir = f"/workspace/cache/{MODEL_ID}"
    require_model = [{"name": "AIM_TEST_REQUIRE_MODEL_DIR", "value": model_dir}]
    spec: dict[str, Any] = {
        "model": {"name": "tiny"},
        "template": {"name": "tiny-mi210"},
        "caching": {"mode": "Dedicated"},
        "env": require_model,
        # The engine's defaults for one GPU (4 CPUs, 32Gi) are more than this machine has.
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    started = time.monotonic()
    team.apply({"apiVersion": V2, "kind": "AIMService", "metadata": {"name": "chat"}, "spec": spec})

    artifacts = wait_until(lambda: team.get_json("aimartifacts")["items"] or None, 60, "the service's artifact")
    [artifact] = artifacts
    name = artifact["metadata"]["name"]
    progress_seen: list[str] = []

    def downloading() -> bool:
        status = artifact_named(team, name).get("status") or {}
        percentage = (status.get("progress") or {}).get("percentage") or 0
        if status.get("status") == "Progressing" and 0 < percentage < 100:
            progress_seen.append(team("get", "aimartifacts", name).stdout)
            return True
        return False

    wait_until(downloading, 120, "the download's progress on the artifact", interval=0.3)
    assert re.search(r"\b\d{1,2} %", progress_seen[0]), progress_seen[0]
    ready = wait_artifact(team, name, "Ready")
    downloaded = time.monotonic() - started
    assert ready["status"]["discoveredSizeBytes"] == 24 * MiB, "found by the check-size Job"
    assert condition(ready["status"], "DownloadComplete")["reason"] == "Verified"
    volume = volume_directory(team, ready["status"]["persistentVolumeClaim"])
    assert tree_digest(volume) == tree_digest(hub.root / MODEL_ID)

    wait_service_state(team, NAMESPACE, "chat", "Running", timeout=180)
    running = time.monotonic() - started
    print(f"apply → artifact Ready {downloaded:.1f}s, → service Running {running:.1f}s")
    service = team.get_json("aimservices.aim.eai.amd.com", "chat")
    assert condition(service["status"], "InferenceServicePodsReady")["reason"] == "PodsReady"
    isvc = next(
        i
        for i in team.get_json("inferenceservices")["items"]
        if i["metadata"]["labels"].get("aim.eai.amd.com/service.name") == "chat"
    )
    isvc_name = isvc["metadata"]["name"]
    assert condition(isvc["status"], "Ready")["status"] == "True", "KServe's verdict"
    [pod] = predictor_pods(team, isvc_name)
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert pod["spec"]["containers"][0]["image"] == image
    mounts = {m["mountPath"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert model_dir in mounts

    predictor = team.get_json("service", f"{isvc_name}-predictor")
    url = f"http://{predictor['spec']['clusterIP']}:{predictor['spec']['ports'][0]['port']}"
    models = httpx.get(f"{url}/v1/models", timeout=10).json()["data"]
    assert models[0]["id"] == MODEL_ID
    assert models[0]["aim_test_model_bytes"] == 24 * MiB, "the model server sees the downloaded bytes"
    chat = {"model": MODEL_ID, "messages": [{"role": "user", "content": "hello from the real node"}]}
    answer = httpx.post(f"{url}/v1/chat/completions", json=chat, timeout=10).json()
    assert answer["choices"][0]["message"]["content"] == "echo: hello from the real node"

    # Scale: the Deployment follows, the service observes two running replicas.
    team("patch", "aimservice.aim.eai.amd.com", "chat", "--type=merge", "-p", json.dumps({"spec": {"replicas": 2}}))

    def two_replicas() -> bool:
        status = team.get_json("aimservices.aim.eai.amd.com", "chat").get("status") or {}
        ready_pods = [p for p in predictor_pods(team, isvc_name) if pod_ready(p)]
        return len(ready_pods) == 2 and (status.get("runtime") or {}).get("currentReplicas") == 2

    wait_until(two_replicas, 120, "two ready replicas, observed on the service")

    # Env change: a rollout to new pods carrying it, the service Running again.
    env = [*require_model, {"name": "AIM_TEST_RESPONSE_DELAY", "value": "0.01"}]
    team("patch", "aimservice.aim.eai.amd.com", "chat", "--type=merge", "-p", json.dumps({"spec": {"env": env}}))

    def rolled_out() -> bool:
        pods = predictor_pods(team, isvc_name)
        with_env = [
            p
            for p in pods
            if pod_ready(p) and any(e["name"] == "AIM_TEST_RESPONSE_DELAY" for e in p["spec"]["containers"][0]["env"])
        ]
        return len(pods) == 2 and len(with_env) == 2

    wait_until(rolled_out, 180, "the env change to roll out")
    wait_service_state(team, NAMESPACE, "chat", "Running", timeout=60)

    # Delete: the InferenceService goes, and the Dedicated cache with its artifact and volume claim.
    team("delete", "aimservice.aim.eai.amd.com", "chat", "--wait=true", "--timeout=120s", timeout=130)
    wait_until(lambda: not team.get_json("inferenceservices")["items"], 60, "the InferenceService to go")
    wait_until(lambda: not team.get_json("aimartifacts")["items"], 60, "the Dedicated artifact to go")
    wait_until(lambda: not team.get_json("pvc")["items"], 60, "its volume claim to go")


def test_a_wrong_token_fails_the_artifact_with_the_downloaders_reason_and_no_secret_anywhere(
    team: Kubectl, admin: Kubectl
) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub-token"}}
    team.apply(secret | {"stringData": {"token": WRONG_TOKEN}})
    env = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hub-token", "key": "token"}}}]
    spec = {"sourceUri": "hf://acme/private", "modelId": "acme/private", "size": "1Mi", "env": env}
    team.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": "private"}, "spec": spec})
    failed = wait_artifact(team, "private", "Failed")
    reasons = {c["type"]: c.get("reason") for c in failed["status"]["conditions"]}
    assert "AuthError" in reasons.values(), reasons
    events = team("get", "events", "-o", "json").stdout
    controller_logs = "\n".join(
        admin("logs", "-n", SYSTEM_NAMESPACE, p, check=False).stdout
        for p in admin("get", "pods", "-n", SYSTEM_NAMESPACE, "-o", "name").stdout.split()
    )
    for where, text in {
        "status": json.dumps(failed),
        "events": events,
        "download pod logs": job_pod_logs(team, failed),
        "controller logs": controller_logs,
    }.items():
        assert WRONG_TOKEN not in text, f"the token is in the {where}"
        assert HF_TOKEN not in text, f"the hub's token is in the {where}"


def test_a_stalled_transfer_is_detected_and_the_download_completes(team: Kubectl, hub: HfServer) -> None:
    """The hub sends 1 MiB of acme/tiny's weights, then nothing on an open connection; the
    downloader's stall detector gives up on it after STALL_TIMEOUT and the next attempt completes."""
    hub.set_faults({"action": "stall", "path": "model.safetensors", "after_bytes": MiB, "times": 1})
    env = [{"name": "STALL_TIMEOUT", "value": "3"}]
    spec = {"sourceUri": "hf://acme/tiny", "modelId": "acme/tiny", "downloadFilter": {}, "env": env}
    team.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": "stalling"}, "spec": spec})
    ready = wait_artifact(team, "stalling", "Ready")
    stalled = [r for r in hub.requests() if r["fault"] == "stall"]
    assert stalled, "the hub stalled a transfer"
    logs = job_pod_logs(team, ready)
    assert re.search(r"stall", logs, re.IGNORECASE), logs[-3000:]
    volume = volume_directory(team, ready["status"]["persistentVolumeClaim"])
    assert tree_digest(volume) == tree_digest(hub.root / "acme" / "tiny")


def test_download_throughput_in_a_pod_from_the_hosts_servers(team: Kubectl, hub: HfServer, s3: S3Server) -> None:
    """64 MiB from each server into a volume on the real node, both Jobs at once; the rate is the
    downloader's own (`Downloaded ... MiB_per_second=`)."""
    hub.set_faults()
    weights = (hub.root / "acme" / "large" / "weights.bin").read_bytes()
    s3.client().put_object(Bucket="models", Key="large/weights.bin", Body=weights)
    credentials = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-credentials"}}
    team.apply(credentials | {"stringData": s3.env()})
    s3_env = [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": "s3-credentials", "key": key}}}
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    ] + [{"name": "AWS_ENDPOINT_URL", "value": s3.url}, {"name": "AWS_DEFAULT_REGION", "value": s3.REGION}]
    sources = {
        "hub-large": {"sourceUri": "hf://acme/large", "modelId": "acme/large"},
        "s3-large": {"sourceUri": "s3://models/large", "modelId": "models/large", "env": s3_env},
    }
    for name, spec in sources.items():
        team.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": name}, "spec": spec})
    rates = {}
    for name in sources:
        ready = wait_artifact(team, name, "Ready")
        written = volume_directory(team, ready["status"]["persistentVolumeClaim"])
        assert tree_digest(written) == tree_digest(hub.root / "acme" / "large"), name
        logs = job_pod_logs(team, ready)
        match = re.search(r"Downloaded source=\S+ bytes=(\d+) protocol=(\S+) seconds=\S+ MiB_per_second=(\S+)", logs)
        assert match, logs[-3000:]
        assert int(match.group(1)) == THROUGHPUT_BYTES
        rates[name] = f"{match.group(3)} MiB/s ({match.group(2)})"
    print(f"download throughput in a pod: {rates}")


def test_a_kv_cache_runs_redis_here_and_the_model_server_reaches_it(team: Kubectl) -> None:
    """spec.kvCache: the AIMKVCache created, its StatefulSet running Redis (Debian's package, from
    the node's registry) with its volume, the service Running with the LMCache file mounted, and
    from inside the model server's pod the endpoint that file names answers PING."""
    tiny_model(team)
    assert team.plane.real_node is not None
    redis = team.plane.real_node.pushed[images.REDIS]
    small = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    spec = {
        "model": {"name": "tiny"},
        "template": {"name": "tiny-mi210"},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "kvCache": {"name": "team-kv", "image": redis, "resources": small},
    }
    started = time.monotonic()
    team.apply({"apiVersion": V2, "kind": "AIMService", "metadata": {"name": "kv"}, "spec": spec})
    wait_service_state(team, NAMESPACE, "kv", "Running", timeout=180)
    print(f"apply → service with a KV cache Running {time.monotonic() - started:.1f}s")
    kv_cache = team.get_json("aimkvcaches", "team-kv")["status"]
    assert (kv_cache["status"], kv_cache["readyReplicas"]) == ("Ready", 1)
    [backend] = team.get_json("pods", "-l", "aim.eai.amd.com/kvcache.name=team-kv")["items"]
    assert backend["spec"]["nodeName"] == NODE_NAME
    assert backend["spec"]["containers"][0]["image"] == redis
    assert team("exec", backend["metadata"]["name"], "--", "redis-cli", "ping").stdout.strip() == "PONG"

    isvc = next(
        i["metadata"]["name"]
        for i in team.get_json("inferenceservices")["items"]
        if i["metadata"]["labels"].get("aim.eai.amd.com/service.name") == "kv"
    )
    [server] = [p for p in predictor_pods(team, isvc) if pod_ready(p)]
    config = team("exec", server["metadata"]["name"], "--", "cat", "/workspace/lmcache/lmcache_config.yaml").stdout
    assert f'remote_url: "{kv_cache["endpoint"]}"' in config
    host, port = kv_cache["endpoint"].removeprefix("redis://").rsplit(":", 1)
    ping = (
        f"import socket; s = socket.create_connection(({host!r}, {port}), timeout=10); "
        "s.sendall(b'*1\\r\\n$4\\r\\nPING\\r\\n'); print(s.recv(16).decode().strip())"
    )
    assert team("exec", server["metadata"]["name"], "--", "python3", "-c", ping).stdout.strip() == "+PONG"
    team("delete", "aimservice.aim.eai.amd.com", "kv", "--wait=true", "--timeout=120s", timeout=130)
    assert team.get_json("aimkvcaches", "team-kv")["status"]["status"] == "Ready", "shared: it outlives the service"


def test_adapters_are_staged_into_the_running_pods_subtree_pruned_and_reclaimed(team: Kubectl, hub: HfServer) -> None:
    """LoRA adapters end to end: a model artifact with an adapter disk adopted by the template
    cache, an adapter on the hub look-alike, a dynamic service. The staging Job (`aim-adapter` from
    the project's image) downloads and promotes the adapter; the running model server's pod sees it
    read-only at /adapters; removing it from spec prunes it from the same pod (no restart); the
    subtree of the deleted service is reclaimed by the reaper."""
    # Upstream's bootstrap: the parent exists before any cache of the template picks an artifact
    # (a Shared cache an earlier test left keeps the artifact it has).
    team("delete", "aimtemplatecaches", "--all", "--wait=true", "--timeout=60s", timeout=70)
    team("delete", "aimartifacts", "--all", "--wait=true", "--timeout=60s", timeout=70)
    tiny_model(team)
    adapter_files = {
        "adapter_config.json": b'{"r": 16, "peft_type": "LORA"}',
        "adapter_model.safetensors": os.urandom(MiB),
    }
    repository = hub.root / "acme" / "tone-lora"
    repository.mkdir(parents=True, exist_ok=True)
    for name, content in adapter_files.items():
        (repository / name).write_bytes(content)
    base = {"sourceUri": f"hf://{MODEL_ID}", "adapterDisk": {"size": "1Gi"}}
    team.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": "tiny-base"}, "spec": base})
    adapter = {"type": "adapter", "parentArtifact": "tiny-base", "sourceUri": "hf://acme/tone-lora", "rank": 16}
    team.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": "tone-lora"}, "spec": adapter})
    wait_artifact(team, "tiny-base", "Ready")
    wait_until(
        lambda: artifact_named(team, "tiny-base").get("status", {}).get("adapterPersistentVolumeClaim"),
        60,
        "the adapter disk",
    )
    wait_artifact(team, "tone-lora", "Ready", timeout=60)
    spec = {
        "model": {"name": "tiny"},
        "template": {"name": "tiny-mi210"},
        "adapterMode": "dynamic",
        "adapters": [{"name": "tone-lora", "kind": "AIMArtifact"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    started = time.monotonic()
    team.apply({"apiVersion": V2, "kind": "AIMService", "metadata": {"name": "lora"}, "spec": spec})
    wait_service_state(team, NAMESPACE, "lora", "Running", timeout=180)

    def staged() -> bool:
        status = team.get_json("aimservices.aim.eai.amd.com", "lora").get("status") or {}
        return [a.get("state") for a in status.get("adapters") or []] == ["Downloaded"]

    try:
        wait_until(staged, 120, "the adapter Downloaded")
    except TimeoutError as error:
        status = team.get_json("aimservices.aim.eai.amd.com", "lora").get("status")
        jobs = team("get", "jobs,pods", "-o", "wide").stdout
        logs = team("logs", "-l", "app.kubernetes.io/component=adapter-stage", "--tail=30", check=False)
        raise AssertionError(f"{error}\n{json.dumps(status, indent=1)}\n{jobs}\n{logs.stdout}{logs.stderr}") from error
    print(f"apply → service with an adapter Running and the adapter staged {time.monotonic() - started:.1f}s")
    service = team.get_json("aimservices.aim.eai.amd.com", "lora")
    uid = service["metadata"]["uid"]
    assert condition(service["status"], "AdaptersReady")["reason"] == "AdaptersStaged"
    stage_pods = team.get_json("pods", "-l", "app.kubernetes.io/component=adapter-stage")["items"]
    assert {p["spec"]["nodeName"] for p in stage_pods} == {NODE_NAME}, "the staging Job ran here"
    isvc = next(
        i["metadata"]["name"]
        for i in team.get_json("inferenceservices")["items"]
        if i["metadata"]["labels"].get("aim.eai.amd.com/service.name") == "lora"
    )
    [server] = [p for p in predictor_pods(team, isvc) if pod_ready(p)]
    pod = server["metadata"]["name"]
    look = (
        "import hashlib, os, sys; root = '/adapters'; "
        "print({d: {f: hashlib.sha256(open(os.path.join(root, d, f), 'rb').read()).hexdigest() "
        "for f in sorted(os.listdir(os.path.join(root, d)))} for d in sorted(os.listdir(root))})"
    )
    seen = team("exec", pod, "--", "python3", "-c", look).stdout.strip()
    expected = {"tone-lora": {n: hashlib.sha256(c).hexdigest() for n, c in sorted(adapter_files.items())}}
    assert seen == str(expected), "the pod sees exactly its adapter's bytes"
    write = team("exec", pod, "--", "python3", "-c", "open('/adapters/x', 'w')", check=False)
    assert write.returncode != 0
    assert "Read-only file system" in write.stderr

    team("patch", "aimservice.aim.eai.amd.com", "lora", "--type=merge", "-p", '{"spec":{"adapters":[]}}')
    try:
        wait_until(
            lambda: not (team.get_json("aimservices.aim.eai.amd.com", "lora").get("status") or {}).get("adapters"),
            120,
            "the removed adapter pruned",
        )
    except TimeoutError as error:
        status = team.get_json("aimservices.aim.eai.amd.com", "lora").get("status")
        jobs = team("get", "jobs,pods", "-o", "wide").stdout
        logs = team("logs", "-l", "app.kubernetes.io/component=adapter-subtree-sync", "--tail=30", check=False)
        controller = team(
            "logs", "-n", SYSTEM_NAMESPACE, "-l", "app.kubernetes.io/component=controller", "--tail=200", check=False
        ).stdout
        logs.stdout += "\n".join(line for line in controller.splitlines() if "lora" in line)[-4000:]
        raise AssertionError(f"{error}\n{json.dumps(status, indent=1)}\n{jobs}\n{logs.stdout}{logs.stderr}") from error
    listing = team("exec", pod, "--", "python3", "-c", "import os; print(os.listdir('/adapters'))").stdout.strip()
    assert listing == "[]", "pruned in the running pod"
    assert [p["metadata"]["name"] for p in predictor_pods(team, isvc)] == [pod], "no restart"

    disk = volume_directory(team, artifact_named(team, "tiny-base")["status"]["adapterPersistentVolumeClaim"])
    subtree = disk / uid
    assert subtree.is_dir()
    an_hour_ago = time.time() - 3600  # older than the reaper's minimum age, as upstream's e2e back-dates
    os.utime(subtree, (an_hour_ago, an_hour_ago))
    team("delete", "aimservice.aim.eai.amd.com", "lora", "--wait=true", "--timeout=120s", timeout=130)
    wait_until(lambda: not subtree.exists(), 120, "the deleted service's subtree reclaimed by the reaper")
    reapers = team.get_json("pods", "-l", "app.kubernetes.io/component=adapter-reap")["items"]
    assert {p["spec"]["nodeName"] for p in reapers} == {NODE_NAME}


def test_keda_scales_the_predictor_on_the_model_servers_metric_and_idles_it_to_zero(team: Kubectl) -> None:
    """minReplicas/maxReplicas with a metrics-api metric: KEDA (operator and metrics adapter as pods
    here, the HPA controller of kube-controller-manager) scales KServe's predictor from 1 to 2 on
    the model server's own vllm:num_requests_running while slow requests run, the service staying
    Running; with minReplicas 0 and no request, KEDA idles it to zero pods after the cooldown; a
    request through the chart's aim-activator is held, wakes the predictor and is answered."""
    started = time.monotonic()
    team.plane.start_keda()
    print(f"KEDA up {time.monotonic() - started:.1f}s")
    tiny_model(team)
    running_requests = {
        "type": "PodMetric",
        "podmetric": {
            "metric": {"backend": "metrics-api", "metricNames": ["vllm:num_requests_running"]},
            "target": {"type": "Value", "value": "1"},
        },
    }
    spec = {
        "model": {"name": "tiny"},
        "template": {"name": "tiny-mi210"},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "env": [{"name": "AIM_TEST_RESPONSE_DELAY", "value": "20"}],  # each answer takes 20 s
        "minReplicas": 1,
        "maxReplicas": 2,
        "autoScaling": {"metrics": [running_requests], "pollingInterval": 2, "cooldownPeriod": 10},
    }
    team.apply({"apiVersion": V2, "kind": "AIMService", "metadata": {"name": "scaled"}, "spec": spec})
    wait_service_state(team, NAMESPACE, "scaled", "Running", timeout=180)

    def hpa_reason() -> str:
        status = team.get_json("aimservices.aim.eai.amd.com", "scaled").get("status") or {}
        return str(condition(status, "HPAReady").get("reason"))

    wait_until(lambda: hpa_reason() == "HPAOperational", 90, "KEDA's HPA to read the metric")
    isvc = next(
        i["metadata"]["name"]
        for i in team.get_json("inferenceservices")["items"]
        if i["metadata"]["labels"].get("aim.eai.amd.com/service.name") == "scaled"
    )
    predictor = team.get_json("service", f"{isvc}-predictor")
    url = f"http://{predictor['spec']['clusterIP']}:{predictor['spec']['ports'][0]['port']}"
    chat = {"model": MODEL_ID, "messages": [{"role": "user", "content": "busy"}]}
    answers: list[int] = []

    def ask() -> None:
        answers.append(httpx.post(f"{url}/v1/chat/completions", json=chat, timeout=90).status_code)

    load = [threading.Thread(target=ask) for _ in range(3)]
    loaded = time.monotonic()
    for thread in load:
        thread.start()

    def scaled_up() -> bool:
        status = team.get_json("aimservices.aim.eai.amd.com", "scaled").get("status") or {}
        runtime = status.get("runtime") or {}
        ready = [p for p in predictor_pods(team, isvc) if pod_ready(p)]
        return len(ready) == 2 and runtime.get("currentReplicas") == 2 and runtime.get("desiredReplicas") == 2

    wait_until(scaled_up, 90, "KEDA to scale the predictor to 2 on the running requests")
    print(f"first request → second replica Ready {time.monotonic() - loaded:.1f}s")
    status = team.get_json("aimservices.aim.eai.amd.com", "scaled")["status"]
    assert status["status"] == "Running"
    assert status["runtime"]["replicas"] == "2/2 (1-2)"
    scaled_object = team.get_json("scaledobjects.keda.sh", f"{isvc}-predictor")
    assert scaled_object["metadata"]["ownerReferences"][0]["name"] == "scaled"
    hpa = team.get_json("hpa", f"keda-hpa-{isvc}-predictor")
    assert hpa["status"]["desiredReplicas"] == 2
    for thread in load:
        thread.join(timeout=90)
    assert answers == [200, 200, 200]

    # Idle with minReplicas 0 (and answers without the delay): after the cooldown KEDA scales the
    # predictor to zero.
    team("patch", "aimservice.aim.eai.amd.com", "scaled", "--type=merge", "-p", '{"spec":{"minReplicas":0,"env":[]}}')
    idle_from = time.monotonic()

    def idle() -> bool:
        status = team.get_json("aimservices.aim.eai.amd.com", "scaled").get("status") or {}
        runtime = status.get("runtime") or {}
        return (
            not predictor_pods(team, isvc)
            and status.get("status") == "Running"
            and (runtime.get("currentReplicas"), runtime.get("desiredReplicas")) == (0, 0)
        )

    wait_until(idle, 120, "the predictor to be idled to zero, the service still Running")
    print(f"minReplicas 0 → zero pods {time.monotonic() - idle_from:.1f}s")
    status = team.get_json("aimservices.aim.eai.amd.com", "scaled")["status"]
    assert condition(status, "HPAReady")["reason"] == "ScaledToZero"
    assert condition(status, "InferenceServicePodsReady")["reason"] == "ScaledToZero"

    # From zero: a request through the chart's aim-activator is held, KEDA wakes the predictor on
    # the activator's count, and the request is answered by the pod that started for it.
    activator = team.get_json("service", "aim-aim-engine-activator", "-n", SYSTEM_NAMESPACE)
    through = f"http://{activator['spec']['clusterIP']}:{activator['spec']['ports'][0]['port']}/{NAMESPACE}/scaled"
    cold = time.monotonic()
    answer = httpx.post(
        f"{through}/v1/chat/completions", json=chat | {"messages": [{"role": "user", "content": "wake"}]}, timeout=180
    )
    first_answer = time.monotonic() - cold
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "echo: wake"
    held = float(answer.headers["x-aim-activator-held-seconds"])
    print(f"scale from zero: first request → first answer {first_answer:.1f}s (held {held:.1f}s)")
    assert held > 0.5, "the request waited for a pod that was not there"
    team("delete", "aimservice.aim.eai.amd.com", "scaled", "--wait=true", "--timeout=120s", timeout=130)
    wait_until(lambda: not team.get_json("scaledobjects.keda.sh")["items"], 60, "the ScaledObject to go with it")
