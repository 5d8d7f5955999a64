"""The test model-server image (images/model-server), the CPU stand-in for a real AIM image.

Its program runs as a process, as the operator runs the image: the discovery Job's arguments and
environment, read back by the operator's own `parse_discovery_output`; the serving API on a free
local port. Its Containerfile's labels go through the operator's own label parser. No container
engine is needed (the image is built elsewhere with buildah).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.stored import read_model, read_template
from api.v1alpha1.aimmodel import ModelInfo
from controller.catalog.labels import parse_image_labels
from controller.common.lookup import NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.service.autoscaling import SERVING_PORT
from controller.template.observe import TemplateObservation
from controller.template.plan import parse_discovery_output, plan_discovery_job
from devcluster.waiting import StopWaitingError, wait_until

ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = ROOT / "images" / "model-server"
SCRIPT = IMAGE_DIR / "aim_test_server.py"
CONTAINERFILE = (IMAGE_DIR / "Containerfile").read_text()
MODEL = "aim-test/tiny-chat"
DEFAULT_SOURCES = [{"modelId": MODEL, "sourceUri": f"hf://{MODEL}", "size": "1Mi"}]
DEFAULT_METADATA = {"engine": "aim-test", "metric": "latency", "precision": "fp16", "type": "optimized"}


def script_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any AIM_* variable of the caller's, plus `overrides`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIM_")} | overrides


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, env=env or script_env(), capture_output=True, text=True, timeout=30, check=False)


def containerfile_labels() -> dict[str, str]:
    """Every `LABEL key="value" \\ ...` of the Containerfile, unquoted as the builder unquotes them."""
    joined = re.sub(r"\\\n", " ", CONTAINERFILE)
    labels: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("LABEL "):
            labels |= dict(word.split("=", 1) for word in shlex.split(line.removeprefix("LABEL ")))
    return labels


def instructions(keyword: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in CONTAINERFILE.splitlines() if line.startswith(f"{keyword} ")]


# --- discovery: dry-run -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "sources", "metadata"),
    [
        pytest.param(
            {},
            DEFAULT_SOURCES,
            DEFAULT_METADATA,
            id="defaults",
        ),
        pytest.param(
            {"AIM_TEST_MODEL_ID": "acme/other"},
            [{"modelId": "acme/other", "sourceUri": "hf://acme/other", "size": "1Mi"}],
            DEFAULT_METADATA,
            id="model-id-names-the-default-source",
        ),
        pytest.param(
            {"AIM_TEST_SOURCE_URI": "s3://models/tiny", "AIM_TEST_SOURCE_SIZE": "2Gi"},
            [{"modelId": MODEL, "sourceUri": "s3://models/tiny", "size": "2Gi"}],
            DEFAULT_METADATA,
            id="source-and-size",
        ),
        pytest.param(
            {"AIM_TEST_SOURCE_SIZE": "1500M", "AIM_TEST_PROFILE_TYPE": "unoptimized"},
            [{"modelId": MODEL, "sourceUri": f"hf://{MODEL}", "size": "1500000000"}],
            {"engine": "aim-test", "metric": "latency", "precision": "fp16", "type": "unoptimized"},
            id="decimal-size-and-profile-type",
        ),
        pytest.param(
            {"AIM_METRIC": "throughput", "AIM_PRECISION": "fp8", "AIM_GPU_MODEL": "MI300X", "AIM_GPU_COUNT": "2"},
            DEFAULT_SOURCES,
            {
                "engine": "aim-test",
                "gpu": "MI300X",
                "gpuCount": 2,
                "metric": "throughput",
                "precision": "fp8",
                "type": "optimized",
            },
            id="discovery-job-env-echoed",
        ),
    ],
)
def test_dry_run_is_read_by_the_operator(
    env: dict[str, str], sources: list[dict[str, Any]], metadata: dict[str, Any]
) -> None:
    result = run_script("dry-run", "--format=json", env=script_env(**env))
    assert result.returncode == 0, result.stderr
    parsed = parse_discovery_output(result.stdout + result.stderr)
    assert parsed is not None
    assert parsed[0] == sources
    assert parsed[1]["metadata"] == metadata
    assert parsed[1]["engine_args"] == {}
    assert parsed[1]["env_vars"] == {}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"AIM_TEST_SOURCE_SIZE": "lots"}, "AIM_TEST_SOURCE_SIZE", id="size-not-a-quantity"),
        pytest.param({"AIM_GPU_COUNT": "two"}, "invalid literal", id="gpu-count-not-a-number"),
    ],
)
def test_dry_run_rejects_bad_settings(env: dict[str, str], message: str) -> None:
    result = run_script("dry-run", env=script_env(**env))
    assert result.returncode == 2
    assert message in result.stderr
    assert parse_discovery_output(result.stdout) is None


def test_discovery_job_planned_for_the_image_runs_the_script() -> None:
    """The whole contract at once: the image's recommended deployment as a template's spec, the
    discovery Job the operator plans for it, its args and env given to the script, its log parsed."""
    labels = parse_image_labels(containerfile_labels())
    (deployment,) = labels.recommended_deployments
    template = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "aim-test-cpu", "namespace": "team", "uid": "t-1"},
        "spec": {"modelName": "aim-test"} | {k: deployment[k] for k in ("metric", "precision", "profileId")},
    }
    model = {"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": "AIMModel", "metadata": {"name": "aim-test"}, "spec": {}}
    observed = TemplateObservation(
        read_template(template), resolve_runtime_config(None, None, None), Found(read_model(model), NAMESPACE)
    )
    job = plan_discovery_job(observed, "discover", "aim-test-server:0.1.0")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = script_env(**{e["name"]: e["value"] for e in container["env"] if "value" in e})
    result = run_script(*container["args"], env=env)
    assert result.returncode == 0, result.stderr
    parsed = parse_discovery_output(result.stdout + result.stderr)
    assert parsed is not None
    assert parsed[0] == DEFAULT_SOURCES
    assert parsed[1]["metadata"] == DEFAULT_METADATA
    assert parsed[1]["originalDiscoveryOutput"]["filename"] == "aim-test-cpu-fp16-latency.yaml"


def test_help_names_the_commands_and_the_operator_serving_port() -> None:
    result = run_script("--help")
    assert result.returncode == 0
    assert "dry-run" in result.stdout
    assert "serve" in result.stdout
    port = re.search(r"AIM_TEST_PORT\s+port to serve on \(default (\d+)\)", result.stdout)
    assert port is not None
    assert int(port.group(1)) == SERVING_PORT, "the container must listen where the InferenceService sends traffic"


# --- serving --------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(workdir: Path, **env: str) -> Iterator[Server]:
    """The script serving on a free 127.0.0.1 port, once it answers; stopped (SIGTERM) afterwards."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "serve"],
            env=script_env(AIM_TEST_HOST="127.0.0.1", AIM_TEST_PORT=str(port), **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)

    def answering() -> bool:
        if process.poll() is not None:
            raise StopWaitingError(f"the server exited with {process.returncode}: {log.read_text()}")
        return httpx.get(f"{server.url}/v1/models", timeout=1).status_code == 200

    try:
        wait_until(answering, timeout=15, what="the test model server to answer")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("model-server")) as started:
        yield started


def test_health_and_models(server: Server) -> None:
    with server.client() as client:
        for path in ("/health", "/v1/health"):
            health = client.get(path)
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
        models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == [MODEL]
    assert "aim_test_model_bytes" not in models["data"][0]


@pytest.mark.parametrize(
    ("env", "served"),
    [
        pytest.param({"AIM_MODEL_ID": "acme/from-operator"}, "acme/from-operator", id="operator-model-id"),
        pytest.param(
            {"AIM_MODEL_ID": "acme/from-operator", "AIM_TEST_SERVED_MODEL_NAME": "acme/served"},
            "acme/served",
            id="served-name-wins",
        ),
    ],
)
def test_served_model_name(tmp_path: Path, env: dict[str, str], served: str) -> None:
    with running_server(tmp_path, **env) as started, started.client() as client:
        assert [m["id"] for m in client.get("/v1/models").json()["data"]] == [served]


@pytest.mark.parametrize(
    ("messages", "answer"),
    [
        pytest.param([{"role": "user", "content": "hello there"}], "echo: hello there", id="one-message"),
        pytest.param(
            [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "echo: first"},
                {"role": "user", "content": "second question"},
            ],
            "echo: second question",
            id="last-user-message",
        ),
        pytest.param(
            [{"role": "user", "content": [{"type": "text", "text": "in parts"}, {"type": "image_url"}]}],
            "echo: in parts",
            id="content-parts",
        ),
    ],
)
def test_chat_completion_echoes_the_last_user_message(
    server: Server, messages: list[dict[str, Any]], answer: str
) -> None:
    with server.client() as client:
        response = client.post("/v1/chat/completions", json={"model": MODEL, "messages": messages})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == MODEL
    (choice,) = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": answer}
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["completion_tokens"] == len(answer.split())
    assert usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_completion_echoes_the_prompt(server: Server) -> None:
    with server.client() as client:
        body = client.post("/v1/completions", json={"prompt": "once upon a time"}).json()
    assert body["object"] == "text_completion"
    assert body["model"] == MODEL
    assert body["choices"][0]["text"] == "echo: once upon a time"
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        pytest.param("/v1/chat/completions", b"{not json", 400, id="chat-invalid-json"),
        pytest.param("/v1/chat/completions", b"", 400, id="chat-empty-body"),
        pytest.param("/v1/chat/completions", b"[]", 400, id="chat-not-an-object"),
        pytest.param("/v1/chat/completions", b'{"model": "x"}', 400, id="chat-without-messages"),
        pytest.param("/v1/completions", b'{"messages": []}', 400, id="completion-without-prompt"),
        pytest.param("/v1/embeddings", b"{}", 404, id="unknown-route"),
    ],
)
def test_bad_requests_get_an_openai_error(server: Server, path: str, content: bytes, status: int) -> None:
    with server.client() as client:
        response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"]
    assert error["type"]


def metric_values(client: httpx.Client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.labels == {"model_name": MODEL}
    }


def test_metrics_count_answered_requests(tmp_path: Path) -> None:
    with running_server(tmp_path) as started, started.client() as client:
        before = metric_values(client)
        for _ in range(2):
            client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        client.post("/v1/completions", json={"prompt": "hi"})
        after = metric_values(client)
    assert before == {
        "vllm:num_requests_running": 0,
        "vllm:num_requests_waiting": 0,
        "vllm:request_success_total": 0,
    }
    assert after["vllm:request_success_total"] == 3
    assert after["vllm:num_requests_running"] == 0


def test_running_gauge_counts_requests_in_flight(tmp_path: Path) -> None:
    with running_server(tmp_path, AIM_TEST_RESPONSE_DELAY="1") as started, started.client() as client:
        slow = threading.Thread(
            target=lambda: httpx.post(f"{started.url}/v1/completions", json={"prompt": "slow"}, timeout=10)
        )
        slow.start()
        wait_until(
            lambda: metric_values(client)["vllm:num_requests_running"] == 1, timeout=5, what="a request in flight"
        )
        slow.join(timeout=10)
        assert metric_values(client)["vllm:num_requests_running"] == 0


def test_health_waits_for_the_model_directory(tmp_path: Path) -> None:
    model_dir = tmp_path / "cache" / MODEL
    with running_server(tmp_path, AIM_TEST_REQUIRE_MODEL_DIR=str(model_dir)) as started, started.client() as client:
        assert client.get("/health").status_code == 503, "no directory yet"
        model_dir.mkdir(parents=True)
        assert client.get("/health").status_code == 503, "an empty directory is not a model"
        (model_dir / "config.json").write_bytes(b"0123456789")
        wait_until(lambda: client.get("/health").status_code == 200, timeout=5, what="/health to answer 200")
        (model := model_dir / "weights").mkdir()
        (model / "model.safetensors").write_bytes(b"x" * 90)
        (model / "link.safetensors").symlink_to(model / "model.safetensors")
        assert client.get("/v1/models").json()["data"][0]["aim_test_model_bytes"] == 100, "links count once"
        (metadata := model_dir / ".cache" / "huggingface" / "download").mkdir(parents=True)
        (metadata / "weights.bin.metadata").write_bytes(b"y" * 125)
        assert client.get("/v1/models").json()["data"][0]["aim_test_model_bytes"] == 100, (
            "the downloader's metadata is not the model"
        )


def test_sigterm_stops_promptly_with_a_connection_open(tmp_path: Path) -> None:
    with running_server(tmp_path) as started, started.client() as client:
        assert client.get("/health").status_code == 200  # the keep-alive connection stays open
        started.process.send_signal(signal.SIGTERM)
        assert started.process.wait(timeout=5) == 0
    log = started.log.read_text()
    assert '"GET /health HTTP/1.1" 200' in log, "one line per request"
    assert "received SIGTERM" in log


# --- the Containerfile ----------------------------------------------------------------------------


def test_containerfile_labels_are_a_complete_aim_model_description() -> None:
    parsed = parse_image_labels(containerfile_labels())
    assert parsed.error is None
    assert parsed.has_aim_labels
    assert parsed.metadata is not None
    model = parsed.metadata["model"]
    every_field = {field.alias or name for name, field in ModelInfo.model_fields.items()}
    assert set(model) == every_field, f"labels missing for {sorted(every_field - set(model))}"
    assert model["canonicalName"] == MODEL
    assert model["source"] == f"hf://{MODEL}"
    assert model["hfTokenRequired"] is False
    assert parsed.recommended_deployments == [
        {
            "metric": "latency",
            "precision": "fp16",
            "profileId": "aim-test-cpu-fp16-latency",
            "description": "CPU test stand-in, no GPU",
        }
    ], "no GPU model: the template the operator creates from it asks for no GPU"
    assert parsed.metadata["oci"]["title"] == "aim-test-server"


def test_containerfile_runs_the_script_as_non_root_on_the_serving_port() -> None:
    assert instructions("FROM") == ["${BASE_IMAGE}"]
    assert instructions("RUN") == [], "nothing is downloaded or installed at build time"
    ((source, destination),) = [line.split() for line in instructions("COPY")]
    assert (IMAGE_DIR / source).is_file()
    assert instructions("ENTRYPOINT") == [f'["python3", "{destination}"]']
    assert instructions("USER") == ["65532:65532"]
    assert instructions("EXPOSE") == [str(SERVING_PORT)]
    assert "HOME=/tmp" in instructions("ENV")[0]
