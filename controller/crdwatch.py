"""kopf wiring (edge layer): kinds whose CRDs are installed after the controller started.

The controller watches KServe InferenceServices and Gateway API HTTPRoutes, which a cluster often
gets after AIM Engine. kopf notices new CRDs through its own CRD watch, but it reads the API
server's discovery at the moment of the CRD event: the API server adds a new kind to discovery a
moment after the CRD is Established, so a CRD installed alone (no later event of its group) stayed
unserved until a restart. This handler waits until discovery serves the kind, then asks kopf to
rescan the group, exactly as kopf does on a CRD event.

It uses two kopf internals (the discovery scan and the rescan of one group); kopf is pinned
(constraints.txt) and the real-node test of a CRD installed late covers them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import kopf
from kopf._cogs.clients import scanning
from kopf._cogs.structs.references import Insights
from kopf._core.reactor import observation

log = logging.getLogger(__name__)
DISCOVERY_WAIT_SECONDS = 60.0


@dataclass
class LateCrds:
    """What the rescan needs from the running operator: its settings (captured at start-up),
    registry and insights (passed to kopf.operator)."""

    registry: kopf.OperatorRegistry
    groups: Collection[str]
    """Only CRDs of these groups matter: the third-party kinds the controller watches."""
    insights: Insights = field(default_factory=Insights)
    settings: kopf.OperatorSettings | None = None


def established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def served_versions(crd: dict[str, Any]) -> set[str]:
    return {v["name"] for v in crd["spec"].get("versions", []) if v.get("served")}


def is_served(late: LateCrds, crd: dict[str, Any]) -> bool:
    plural = crd["spec"]["names"]["plural"]
    return any(r.plural == plural and r.group == crd["spec"]["group"] for r in late.insights.watched_resources)


def register_late_crds(late: LateCrds) -> None:
    @kopf.on.startup(registry=late.registry)
    def capture_settings(settings: kopf.OperatorSettings, **_: Any) -> None:
        late.settings = settings

    @kopf.on.event(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        registry=late.registry,
        when=lambda body, **_: body["spec"]["group"] in late.groups,
    )
    async def crd_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        crd = dict(body)
        if type == "DELETED" or late.settings is None or not established(crd) or is_served(late, crd):
            return
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        deadline = asyncio.get_running_loop().time() + DISCOVERY_WAIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            resources = await scanning.scan_resources(groups={group}, settings=late.settings, logger=log)
            if any(r.plural == plural and r.version in served_versions(crd) for r in resources):
                break
            await asyncio.sleep(1)
        await observation.process_discovered_resource_event(
            raw_event={"type": "MODIFIED", "object": crd},  # type: ignore[typeddict-item]
            settings=late.settings,
            registry=late.registry,
            insights=late.insights,
        )
        log.info("Watching %s.%s, whose CRD was installed after the controller started", plural, group)
