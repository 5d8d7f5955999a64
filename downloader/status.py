"""Status of the AIMArtifact being downloaded: merge patches of its status subresource with the
Kubernetes client (in-cluster configuration, else KUBECONFIG). Best effort by design: without
configuration the downloader logs once and carries on, and a failed patch is logged, never
raised: the download matters more than its report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

logger = logging.getLogger("downloader.status")

GROUP = "aim.eai.amd.com"
VERSION = "v1alpha1"
PLURAL = "aimartifacts"


class StatusReporter:
    def __init__(
        self, name: str, namespace: str, patcher: Callable[[dict[str, Any]], None], redact: Callable[[str], str]
    ):
        self.name = name
        self.namespace = namespace
        self._patch = patcher
        self._redact = redact
        self._warned = False

    def patch(self, status: dict[str, Any]) -> bool:
        try:
            self._patch({"status": status})
        except Exception as error:
            if not self._warned:
                logger.warning(
                    "Failed to patch AIMArtifact status name=%s namespace=%s error=%s",
                    self.name,
                    self.namespace,
                    self._redact(" ".join(str(error).split())[:300]),
                )
                self._warned = True
            return False
        self._warned = False
        return True


def connect(name: str, namespace: str, redact: Callable[[str], str]) -> StatusReporter | None:
    """A reporter for the artifact, or None (logged) when no cluster configuration is found."""
    try:
        config.load_incluster_config()
    except ConfigException:
        try:
            config.load_kube_config()
        except (ConfigException, OSError, TypeError) as error:
            logger.warning(
                "Found no Kubernetes configuration; status will not be reported name=%s namespace=%s reason=%s",
                name,
                namespace,
                redact(" ".join(str(error).split())[:200]),
            )
            return None
    api = client.CustomObjectsApi()

    def patcher(body: dict[str, Any]) -> None:
        api.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, body, _request_timeout=10)

    return StatusReporter(name, namespace, patcher, redact)
