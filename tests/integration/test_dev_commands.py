"""`make dev-up` / `make dev-down` (python -m devcluster up|down) start and stop a whole local
control plane and leave no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from devcluster.binaries import bin_dir
from devcluster.processes import process_group_alive
from devcluster.waiting import wait_until
from tests.conftest import REPO_ROOT


def devcluster(dev_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIM_DEV_DIR": str(dev_dir)}
    return subprocess.run(
        [sys.executable, "-m", "devcluster", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_up_is_ready_and_down_leaves_no_process(tmp_path: Path) -> None:
    dev_dir = tmp_path / "dev"
    started = devcluster(dev_dir, "up")
    assert started.returncode == 0, started.stdout + started.stderr
    kubeconfig = dev_dir / "kubeconfig"
    assert started.stdout.strip().endswith(f"export KUBECONFIG={kubeconfig}")

    state = json.loads((dev_dir / "state.json").read_text())
    pids = [state["supervisor"], *state["processes"].values()]
    assert set(state["processes"]) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "webhooks",
        "kserve",
        "controller",
    }
    readyz = subprocess.run(
        [str(bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert readyz.stdout.strip() == "ok"
    again = devcluster(dev_dir, "up")
    assert "Already running" in again.stdout

    # The webhook service exiting does not stop the control plane: it is started again.
    os.killpg(state["processes"]["webhooks"], signal.SIGKILL)
    wait_until(
        lambda: "webhooks exited with -9; restarting it in 1s" in (dev_dir / "run.log").read_text(), 30, "a restart"
    )
    wait_until(
        lambda: (
            json.loads((dev_dir / "state.json").read_text())["processes"].get("webhooks")
            not in (None, state["processes"]["webhooks"])
        ),
        30,
        "the restarted webhook service in state.json",
    )
    pids.append(json.loads((dev_dir / "state.json").read_text())["processes"]["webhooks"])

    stopped = devcluster(dev_dir, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert [pid for pid in pids if process_group_alive(pid)] == []
    assert not (dev_dir / "state.json").exists()
    assert "Nothing is running." in devcluster(dev_dir, "down").stdout
