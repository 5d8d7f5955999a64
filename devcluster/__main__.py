"""`python -m devcluster run|up|down|status`: the local control plane for `make run` and friends.

run     start everything in the foreground; Ctrl-C stops everything
up      start `run` in the background and return once it is ready
down    stop what `up` started, by recorded process group
status  print what is running
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devcluster.binaries import REPO_ROOT, third_party_crds
from devcluster.controlplane import ControlPlane, ControlPlaneOptions
from devcluster.nodes import load_node_set
from devcluster.processes import process_group_alive, stop_process_group
from devcluster.realnode import RealNodeOptions, unavailable_reason
from devcluster.waiting import wait_until

DEV_DIR = Path(os.environ.get("AIM_DEV_DIR", REPO_ROOT / ".dev"))
STATE_FILE = DEV_DIR / "state.json"
RUN_LOG = DEV_DIR / "run.log"


def crd_files() -> list[Path]:
    return sorted((REPO_ROOT / "crds").glob("*.yaml")) + third_party_crds()


def ready_line(kubeconfig: Path) -> str:
    return f"AIM Engine local control plane is ready: export KUBECONFIG={kubeconfig}"


def real_node_line(node: dict[str, object]) -> str:
    images = node["images"]
    assert isinstance(images, dict)
    return (
        f"Real node {node['node']} is Ready (registry {node['registry']}); the project's image is "
        f"{images.get('project', '')}, the test model server {images.get('model-server', '')}"
    )


def write_state(plane: ControlPlane, kubeconfig: Path) -> None:
    """What `down` and `status` read: the supervisor and every child's process group."""
    state = {"supervisor": os.getpid(), "ready": True, **plane.describe(), "kubeconfig": str(kubeconfig)}
    partial = STATE_FILE.with_suffix(".json.part")
    partial.write_text(json.dumps(state, indent=2))
    partial.replace(STATE_FILE)  # readers never see half a file


RESTARTED_ON_EXIT = ("webhooks",)
"""Processes `make run` starts again when they exit, so that an outage can be tried (kill or pause
the webhook service and watch what still works); any other exit stops the control plane."""
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits before each restart in a row; a process that stayed up a minute starts over at the first."""


def run(
    nodes_file: Path | None,
    simulate: bool = True,
    real_node: bool = False,
    fail_fast: bool = False,
    kserve: bool = True,
) -> int:
    if real_node and (reason := unavailable_reason()):
        print(f"Cannot start the real node: {reason}", file=sys.stderr)
        return 2
    cluster_dir = DEV_DIR / "cluster"
    shutil.rmtree(cluster_dir, ignore_errors=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())

    plane = ControlPlane(
        ControlPlaneOptions(
            workdir=cluster_dir,
            simulate_nodes=simulate,
            nodes=load_node_set(nodes_file),
            crd_paths=crd_files(),
            start_controller=True,
            start_kserve=kserve and simulate,
            real_node=RealNodeOptions() if real_node else None,
        )
    )
    try:
        plane.start()
        kubeconfig = DEV_DIR / "kubeconfig"
        shutil.copyfile(plane.kubeconfig, kubeconfig)
        kubeconfig.chmod(0o600)
        write_state(plane, kubeconfig)
        print(ready_line(kubeconfig), flush=True)
        if plane.real_node is not None:
            print(real_node_line(plane.real_node.describe()), flush=True)
        restarts: dict[str, tuple[int, float]] = {}  # name -> (restarts in a row, when last restarted)
        while not stop.is_set():
            for process in list(plane.processes):
                if not process.running() and process.name in RESTARTED_ON_EXIT and not fail_fast:
                    count, last = restarts.get(process.name, (0, 0.0))
                    count = 0 if time.monotonic() - last > 60 else count
                    delay = RESTART_BACKOFF_SECONDS[min(count, len(RESTART_BACKOFF_SECONDS) - 1)]
                    print(
                        f"{process.name} exited with {process.exit_code()}; restarting it in {delay:.0f}s "
                        "(--fail-fast stops the control plane instead).",
                        file=sys.stderr,
                        flush=True,
                    )
                    if stop.wait(delay):
                        break
                    plane.restart(process)
                    restarts[process.name] = (count + 1, time.monotonic())
                    write_state(plane, kubeconfig)
                elif not process.running():
                    print(
                        f"{process.name} exited with {process.exit_code()}; stopping.\n{process.log_tail()}",
                        file=sys.stderr,
                        flush=True,
                    )
                    stop.set()
            stop.wait(1.0)
    finally:
        print("Stopping the local control plane ...", flush=True)
        plane.stop()
        STATE_FILE.unlink(missing_ok=True)
        print("Stopped.", flush=True)
    return 0


def up(
    nodes_file: Path | None,
    timeout: float,
    simulate: bool = True,
    real_node: bool = False,
    fail_fast: bool = False,
    kserve: bool = True,
) -> int:
    if STATE_FILE.exists() and process_group_alive(json.loads(STATE_FILE.read_text())["supervisor"]):
        print(f"Already running. {ready_line(DEV_DIR / 'kubeconfig')}")
        return 0
    DEV_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "devcluster", "run"]
    if nodes_file:
        argv += ["--nodes", str(nodes_file)]
    if not simulate:
        argv.append("--no-simulation")
    if real_node:
        argv.append("--real-node")
    if fail_fast:
        argv.append("--fail-fast")
    if not kserve:
        argv.append("--no-kserve")
    with RUN_LOG.open("wb") as log:
        supervisor = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
        )

    def started() -> bool:
        if supervisor.poll() is not None:
            raise RuntimeError(f"the control plane exited with {supervisor.returncode}; see {RUN_LOG}")
        return STATE_FILE.exists() and bool(json.loads(STATE_FILE.read_text()).get("ready"))

    try:
        wait_until(started, timeout, "the local control plane")
    except Exception as error:
        print(f"{error}\n{RUN_LOG.read_text()[-4000:]}", file=sys.stderr)
        stop_process_group(supervisor.pid, 30)
        return 1
    print(ready_line(DEV_DIR / "kubeconfig"))
    return 0


def down() -> int:
    if not STATE_FILE.exists():
        print("Nothing is running.")
        return 0
    state = json.loads(STATE_FILE.read_text())
    # The supervisor stops its children in order; anything it leaves is stopped by group id.
    # The real node's teardown (pods, kube-proxy --cleanup, mounts, the fence) takes longer.
    stop_process_group(int(state["supervisor"]), grace=180 if state.get("realNode") else 60)
    for name, pgid in state.get("processes", {}).items():
        if process_group_alive(int(pgid)):
            print(f"{name} outlived the supervisor; stopping it", file=sys.stderr)
            stop_process_group(int(pgid), grace=5)
    STATE_FILE.unlink(missing_ok=True)
    print("Stopped.")
    return 0


def status() -> int:
    if not STATE_FILE.exists():
        print("Nothing is running.")
        return 1
    print(STATE_FILE.read_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="devcluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "up"):
        command = sub.add_parser(name)
        command.add_argument(
            "--nodes",
            type=Path,
            default=os.environ.get("AIM_DEVCLUSTER_NODES") or None,
            help="YAML file with the simulated nodes (default: devcluster/default-nodes.yaml)",
        )
        command.add_argument(
            "--no-simulation",
            dest="simulate",
            action="store_false",
            help="only etcd and kube-apiserver: no controller manager, scheduler or simulated nodes",
        )
        command.add_argument(
            "--real-node",
            action="store_true",
            default=os.environ.get("AIM_DEVCLUSTER_REAL_NODE", "") not in ("", "0"),
            help="add a real node (containerd, kubelet, kube-proxy, CoreDNS) next to the simulated ones; needs root",
        )
        command.add_argument(
            "--fail-fast",
            action="store_true",
            help="stop everything when the webhook service exits, instead of restarting it",
        )
        command.add_argument(
            "--no-kserve",
            dest="kserve",
            action="store_false",
            help="do not run KServe's controller (InferenceServices then stay as the AIM controller wrote them)",
        )
    sub.choices["up"].add_argument("--timeout", type=float, default=900)
    sub.add_parser("down")
    sub.add_parser("status")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.nodes, args.simulate, args.real_node, args.fail_fast, args.kserve)
    if args.command == "up":
        return up(args.nodes, args.timeout, args.simulate, args.real_node, args.fail_fast, args.kserve)
    if args.command == "down":
        return down()
    return status()


if __name__ == "__main__":
    sys.exit(main())
