"""`python -m controller`: the AIM Engine controller (kopf watches, work queue, reconcile workers)."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
import prometheus_client
from kopf._core.engines.peering import Identity as KopfIdentity  # the type; kopf does not re-export it
from kubernetes import client, config

from api.registry import CRDS
from controller.common.kserve_events import KServeWarnings
from controller.crdwatch import LateCrds, register_late_crds
from controller.handlers import THIRD_PARTY_GROUPS, configure, filtered_types, register, stored_types
from controller.kinds import BY_NAME, KINDS
from controller.kube.certificates import CertificateKeeper
from controller.kube.client import Kube
from controller.kube.leader import LeaderElector
from controller.kube.storage_migration import migrate_while_leading
from controller.kube.store import ObjectStore
from controller.metrics import ControllerMetrics
from controller.pipeline.workqueue import WorkQueue
from controller.runner import Context, Reconciler, build_reconcilers
from controller.settings import ControllerSettings
from controller.watches import ObjectKey, ServiceIndex

log = logging.getLogger("controller")


def load_client() -> client.ApiClient:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()


def work(
    queue: WorkQueue[ObjectKey],
    reconcilers: dict[str, Reconciler],
    metrics: ControllerMetrics,
    leading: threading.Event,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        if not leading.wait(1):
            continue  # a standby replica keeps its queue but does not act on it
        key = queue.get(timeout=1)
        if key is None:
            continue
        kind, namespace, name = key
        started = time.perf_counter()
        try:
            requeue_after = reconcilers[kind].reconcile(namespace, name)
            queue.forget(key)
            if requeue_after is not None:
                queue.add_after(key, requeue_after)
            metrics.reconciles.labels(kind, "success").inc()
        except Exception as error:  # every failure is retried with back-off; the log says why
            metrics.reconciles.labels(kind, "error").inc()
            delay = queue.retry(key)
            log.warning("Reconcile of %s %s/%s failed (retry in %.1fs): %s", kind, namespace, name, delay, error)
        finally:
            metrics.reconcile_seconds.labels(kind).observe(time.perf_counter() - started)
            queue.done(key)


def enqueue_all(queue: WorkQueue[ObjectKey], index: ServiceIndex) -> None:
    """A new leader catches up with everything that happened while it stood by."""
    for key in index.all_keys():
        queue.add(key)


def resync(queue: WorkQueue[ObjectKey], index: ServiceIndex, period: float, stop: threading.Event) -> None:
    while not stop.wait(period):
        enqueue_all(queue, index)


def on_elected(
    kube: Kube, queue: WorkQueue[ObjectKey], index: ServiceIndex, leading: threading.Event, stop: threading.Event
) -> None:
    """A new leader catches up with what happened while it stood by, and finishes any storage
    migration an upgrade left (objects still stored in an old version)."""
    enqueue_all(queue, index)
    crds = [f"{c.names.plural}.{c.group}" for c in CRDS if len(c.versions) > 1]
    threading.Thread(target=migrate_while_leading, args=(kube, crds, leading, stop), daemon=True).start()


RELIST_THREADS = 8
"""At most as many as the API client's connection pool holds (5 per CPU, 10 on two cores)."""


def relist(kube: Kube, store: ObjectStore) -> list[tuple[str, str, str]]:
    """Every stored kind listed from the API server into the store; (kind, namespace, name) of
    the objects found gone."""

    def one(type_key: tuple[str, str]) -> list[tuple[str, str, str]]:
        api_version, kind = type_key
        items, revision = kube.list_from_server(api_version, kind, label_selector=store.selector_of(api_version, kind))
        return [(kind, *key) for key in store.replace_all(api_version, kind, items, revision)]

    # At once, not one after another: on a fresh API server the first list of each custom
    # resource is answered "429, storage is initializing, retry after 1 s" while its watch cache
    # fills, and 25 kinds one by one took the first start 16 s.
    with ThreadPoolExecutor(RELIST_THREADS) as pool:
        return [gone for found in pool.map(one, store.kinds()) for gone in found]


def keep_relisting(
    kube: Kube,
    store: ObjectStore,
    queue: WorkQueue[ObjectKey],
    index: ServiceIndex,
    period: float,
    stop: threading.Event,
) -> None:
    while not stop.wait(period):
        try:
            removed = relist(kube, store)
        except Exception as error:  # the next period tries again; the watches keep the store meanwhile
            log.warning("Could not list the watched kinds again: %s", error)
            continue
        if removed:  # their deletion events were missed, and with them what they enqueue
            log.info("Dropped %d objects deleted while a watch was re-established: %s", len(removed), removed[:5])
            enqueue_all(queue, index)


def replica_identity() -> str:
    """Who this replica is, for the Lease and kopf: the pod name (its hostname) and a random
    suffix, so a restarted container never inherits its predecessor's leadership by name."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # kopf says "Handler ... succeeded." at INFO for every watch event: most of the log, nothing a
    # reader needs (what a reconcile did is logged by the runner); a failing handler still shows.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    settings = ControllerSettings()
    api_client = load_client()
    metrics = ControllerMetrics()
    kube = Kube(api_client, settings.field_manager, metrics)
    kserve_warnings = KServeWarnings()  # fed by the event watch, read by service reconciles
    reconcilers = build_reconcilers(Context(kube, settings, kserve_warnings=kserve_warnings), KINDS)
    if settings.metrics_port:
        prometheus_client.start_http_server(settings.metrics_port, settings.health_host, registry=metrics.registry)
    # Everything but services first: a cache, template or model is what many services wait for.
    queue: WorkQueue[ObjectKey] = WorkQueue(urgent=lambda key: BY_NAME[key[0]].urgent)
    index = ServiceIndex(kserve_warnings)
    registry = kopf.OperatorRegistry()
    store = ObjectStore(stored_types(KINDS), filtered_types(KINDS)) if settings.store else None
    register(registry, queue, index, KINDS, store)
    late_crds = LateCrds(registry, THIRD_PARTY_GROUPS)
    register_late_crds(late_crds)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # In-cluster service account or KUBECONFIG, the same as the reconcilers' client.
        return kopf.login_via_client(**kwargs)

    @kopf.on.startup(registry=registry)
    def startup(settings: kopf.OperatorSettings, **_: object) -> None:
        configure(settings, ControllerSettings(), KINDS)

    # One identity for the Lease and for kopf. Without it kopf derives one from the user name,
    # which fails in an image run under a numeric uid that has no passwd entry (restricted pods).
    identity = replica_identity()
    stop = threading.Event()
    threads = [threading.Thread(target=resync, args=(queue, index, settings.resync_seconds, stop), daemon=True)]
    if settings.leader_election:
        elector = LeaderElector(
            kube,
            settings.lease_name,
            settings.lease_namespace,
            identity=identity,
            lease_seconds=settings.lease_seconds,
            retry_seconds=settings.lease_retry_seconds,
            on_elected=lambda: on_elected(kube, queue, index, elector.leading, stop),
        )
        leading = elector.leading
        threads.append(threading.Thread(target=elector.run, args=(stop,), daemon=True))
    else:
        leading = threading.Event()
        leading.set()
    if settings.webhook_secret:
        keeper = CertificateKeeper(kube, settings.lease_namespace, settings.webhook_secret)
        threads.append(
            threading.Thread(target=keeper.run, args=(leading, stop, settings.certificate_check_seconds), daemon=True)
        )
    if store is not None:
        # Filled before any worker runs: a reconcile never reads a half-listed kind.
        relist(kube, store)
        kube.store = store
        log.info("Serving reads of %d watched kinds from memory (%d objects)", len(store.kinds()), store.size())
        threads.append(
            threading.Thread(
                target=keep_relisting,
                args=(kube, store, queue, index, settings.store_relist_seconds, stop),
                daemon=True,
            )
        )
    threads += [
        threading.Thread(target=work, args=(queue, reconcilers, metrics, leading, stop), daemon=True)
        for _ in range(settings.workers)
    ]
    for thread in threads:
        thread.start()
    liveness = f"http://{settings.health_host}:{settings.health_port}/healthz" if settings.health_port else None
    try:
        asyncio.run(
            kopf.operator(
                registry=registry,
                clusterwide=True,
                standalone=True,
                identity=KopfIdentity(identity),
                insights=late_crds.insights,
                liveness_endpoint=liveness,
            )
        )
    finally:
        stop.set()
        queue.close()
        deadline = time.monotonic() + 10
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
