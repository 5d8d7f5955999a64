"""A CPU-only stand-in for an AMD AIM inference image (standard library only, Python 3.11).

Real AIM images need a GPU; this program answers the two ways the operator runs an AIM image so
that discovery, the KServe predictor and the whole chain up to an HTTP answer can be exercised on a
CPU node: `dry-run --format=json` prints the discovery result the operator's
`controller.template.plan.parse_discovery_output` reads, and `serve` (the default) answers an
OpenAI-compatible API with canned echo answers and vLLM-like Prometheus metrics. Outside the
operator's packages on purpose: the image holds python3 and this file, nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_MODEL = "aim-test/tiny-chat"
DEFAULT_PORT = 8000  # the operator's serving container port (controller/service/common.py SERVING_PORT)
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
ENV_HELP = f"""environment:
  AIM_TEST_MODEL_ID           model printed by dry-run (default {DEFAULT_MODEL})
  AIM_TEST_SOURCE_URI         its source (default hf://<model id>)
  AIM_TEST_SOURCE_SIZE        its size as a quantity, e.g. 1Mi or 2Gi (default 1Mi)
  AIM_TEST_PROFILE_TYPE       profile type printed by dry-run (default optimized)
  AIM_METRIC, AIM_PRECISION, AIM_GPU_MODEL, AIM_GPU_COUNT, AIM_PROFILE_ID
                              set by the operator's discovery Job, echoed into the profile
  AIM_TEST_HOST               address to serve on (default 0.0.0.0)
  AIM_TEST_PORT               port to serve on (default {DEFAULT_PORT})
  AIM_TEST_SERVED_MODEL_NAME  model id served (default AIM_MODEL_ID, then AIM_TEST_MODEL_ID)
  AIM_TEST_REQUIRE_MODEL_DIR  /health answers 503 until this directory holds a file
  AIM_TEST_RESPONSE_DELAY     seconds each completion takes (default 0), to make load visible"""


def quantity_bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", text.strip())
    if not match:
        raise ValueError(f"AIM_TEST_SOURCE_SIZE={text!r} is not a quantity such as 1Mi or 2Gi")
    return round(float(match.group(1)) * _UNITS[match.group(2) or ""])


def discovery_result(env: dict[str, str]) -> list[dict[str, Any]]:
    """The array a real image prints for `dry-run --format=json`: one profile and its models."""
    model_id = env.get("AIM_TEST_MODEL_ID") or DEFAULT_MODEL
    metric, precision = env.get("AIM_METRIC") or "latency", env.get("AIM_PRECISION") or "fp16"
    profile_type = env.get("AIM_TEST_PROFILE_TYPE") or "optimized"  # selection skips others unless allowed
    metadata: dict[str, Any] = {"engine": "aim-test", "metric": metric, "precision": precision, "type": profile_type}
    if env.get("AIM_GPU_MODEL"):
        metadata["gpu"] = env["AIM_GPU_MODEL"]
    if env.get("AIM_GPU_COUNT"):
        metadata["gpu_count"] = int(env["AIM_GPU_COUNT"])
    size = quantity_bytes(env.get("AIM_TEST_SOURCE_SIZE") or "1Mi")
    profile_id = env.get("AIM_PROFILE_ID") or f"aim-test-cpu-{precision}-{metric}"
    source = env.get("AIM_TEST_SOURCE_URI") or f"hf://{model_id}"
    return [
        {
            "filename": f"{profile_id}.yaml",
            "profile": {"model": model_id, "metadata": metadata, "engine_args": {}, "env_vars": {}},
            # size_gb in GiB, as the real images print it; a division by 2**30 is exact in a float.
            "models": [{"name": model_id, "source": source, "size_gb": size / 2**30}],
        }
    ]


def has_files(directory: Path) -> bool:
    return directory.is_dir() and any(path.is_file() for path in directory.rglob("*"))


def total_bytes(directory: Path) -> int:
    """Bytes of the model's files under `directory`: a file reached through several links counts
    once, and hidden paths (huggingface_hub's `.cache/` download metadata) not at all."""
    files = (p for p in directory.rglob("*") if p.is_file() and not _hidden(p.relative_to(directory)))
    stats = (path.stat() for path in files) if directory.is_dir() else ()
    return sum({(stat.st_dev, stat.st_ino): stat.st_size for stat in stats}.values())


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


class State:
    """What every request thread shares: the served model, the model directory, the counters."""

    def __init__(self, env: dict[str, str]) -> None:
        # AIM_MODEL_ID is what the operator sets on the inference container (the template's first source).
        names = ("AIM_TEST_SERVED_MODEL_NAME", "AIM_MODEL_ID", "AIM_TEST_MODEL_ID")
        self.model = next((env[name] for name in names if env.get(name)), DEFAULT_MODEL)
        self.model_dir = Path(env["AIM_TEST_REQUIRE_MODEL_DIR"]) if env.get("AIM_TEST_REQUIRE_MODEL_DIR") else None
        self.delay = float(env.get("AIM_TEST_RESPONSE_DELAY") or 0)
        self.lock = threading.Lock()
        self.running = 0
        self.served = 0
        self.started = int(time.time())


def text_of(content: Any) -> str:
    """A message's content: a string, or OpenAI's list of parts of which the text parts count."""
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "" if content is None else str(content)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as KServe's queue proxy and real engines use
    state: State

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} [{self.log_date_time_string()}] {format % args}", flush=True)

    def send_json(self, code: int, body: dict[str, Any]) -> None:
        self.send_text(code, json.dumps(body), "application/json")

    def send_text(self, code: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, code: int, message: str, kind: str = "invalid_request_error") -> None:
        self.send_json(code, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def do_GET(self) -> None:
        state = self.state
        path = self.path.split("?", 1)[0]
        if path in ("/health", "/v1/health"):
            if state.model_dir is not None and not has_files(state.model_dir):
                self.send_json(503, {"status": f"waiting for model files in {state.model_dir}"})
            else:
                self.send_json(200, {"status": "ok"})
        elif path == "/v1/models":
            model: dict[str, Any] = {"id": state.model, "object": "model", "created": state.started}
            model |= {"owned_by": "aim-test", "root": state.model, "parent": None}
            if state.model_dir is not None:
                model["aim_test_model_bytes"] = total_bytes(state.model_dir)
            self.send_json(200, {"object": "list", "data": [model]})
        elif path == "/metrics":
            self.send_text(200, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self.send_error_body(404, f"no route {path}", "not_found_error")

    def metrics(self) -> str:
        label = '{model_name="' + self.state.model.replace("\\", "\\\\").replace('"', '\\"') + '"}'
        with self.state.lock:
            values = [
                ("vllm:num_requests_running", "gauge", "Requests being answered.", self.state.running),
                ("vllm:num_requests_waiting", "gauge", "Requests waiting (never any here).", 0),
                ("vllm:request_success_total", "counter", "Completions answered.", self.state.served),
            ]
        lines = []
        for name, kind, description, value in values:
            lines += [f"# HELP {name} {description}", f"# TYPE {name} {kind}", f"{name}{label} {value}"]
        return "\n".join(lines) + "\n"

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if path not in ("/v1/chat/completions", "/v1/completions"):
            self.send_error_body(404, f"no route {path}", "not_found_error")
            return
        try:
            body = json.loads(raw)
        except ValueError as error:
            self.send_error_body(400, f"request body is not valid JSON: {error}")
            return
        chat = path == "/v1/chat/completions"
        if not isinstance(body, dict) or not isinstance(body.get("messages" if chat else "prompt"), list | str):
            self.send_error_body(400, f"request body must be a JSON object with {'messages' if chat else 'prompt'}")
            return
        with self.state.lock:
            self.state.running += 1
        try:
            time.sleep(self.state.delay)
            self.send_json(200, self.completion(body, chat))
        finally:
            with self.state.lock:
                self.state.running -= 1
                self.state.served += 1

    def completion(self, body: dict[str, Any], chat: bool) -> dict[str, Any]:
        if chat:
            messages = [m for m in body["messages"] if isinstance(m, dict)]
            prompt = " ".join(text_of(m.get("content")) for m in messages)
            last = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        else:
            prompt = last = body["prompt"] if isinstance(body["prompt"], str) else " ".join(map(str, body["prompt"]))
        answer = f"echo: {last}"
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(answer.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
        choice |= {"message": {"role": "assistant", "content": answer}} if chat else {"text": answer}
        return {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{time.time_ns():x}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model") or self.state.model,
            "choices": [choice],
            "usage": usage,
        }


def serve(env: dict[str, str]) -> int:
    host, port = env.get("AIM_TEST_HOST") or "0.0.0.0", int(env.get("AIM_TEST_PORT") or DEFAULT_PORT)  # noqa: S104
    state = State(env)
    handler: type[Handler] = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True  # open keep-alive connections must not hold up a SIGTERM
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        print(f"received {signal.Signals(signum).name}, stopping", flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # serve_forever in a thread: shutdown() from the main thread would deadlock inside it.
    threading.Thread(target=server.serve_forever, args=(0.1,), name="http", daemon=True).start()
    print(f"aim-test-server serving {state.model} on http://{host}:{server.server_port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aim-test-server",
        description="CPU-only stand-in for an AMD AIM inference image (discovery dry-run and an OpenAI API).",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{serve,dry-run}")
    commands.add_parser("serve", help="serve the OpenAI-compatible API (the default)")
    dry_run = commands.add_parser("dry-run", help="print the discovery result, as the operator's discovery Job runs it")
    dry_run.add_argument("--format", choices=("json", "text"), default="json")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.command != "dry-run":
        return serve(env)
    try:
        result = discovery_result(env)
    except ValueError as error:
        print(f"aim-test-server: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result), flush=True)
    else:
        for model in result[0]["models"]:
            print(f"{result[0]['filename']}: {model['name']} from {model['source']} ({model['size_gb']} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
