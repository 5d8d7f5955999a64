"""Two controller replicas: one leads through a Lease, the other stands by and takes over when the
leader stops renewing."""

from __future__ import annotations

import uuid

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until

LED = "Became the leading controller"


def test_one_replica_leads_and_the_other_takes_over(control_plane: ControlPlane) -> None:
    lease = f"pair-{uuid.uuid4().hex[:6]}"
    env = {
        "AIM_CONTROLLER_LEASE_NAME": lease,
        "AIM_CONTROLLER_LEASE_SECONDS": "4",
        "AIM_CONTROLLER_LEASE_RETRY_SECONDS": "0.5",
    }
    first = control_plane.start_controller(f"controller-{lease}-a", env)
    second = control_plane.start_controller(f"controller-{lease}-b", env)
    try:

        def leaders() -> list[str]:
            return [p.name for p in (first, second) if p.running() and LED in p.log_path.read_text()]

        wait_until(lambda: len(leaders()) == 1, 20, "one replica to lead")
        leader, standby = (first, second) if leaders() == [first.name] else (second, first)
        holder = control_plane.kubectl(
            "get", "lease", lease, "-n", "default", "-o", "jsonpath={.spec.holderIdentity}"
        ).stdout
        assert holder
        assert LED not in standby.log_path.read_text()
        assert "Applied " not in standby.log_path.read_text()  # a standby never writes

        leader.stop()
        wait_until(lambda: LED in standby.log_path.read_text(), 20, "the standby to take over")
        lease_spec = control_plane.kubectl("get", "lease", lease, "-n", "default", "-o", "json").stdout
        assert '"leaseTransitions": 1' in lease_spec
        assert holder not in lease_spec
    finally:
        for process in (first, second):
            process.stop()
