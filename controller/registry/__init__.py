"""The controller's I/O edge towards container registries (never the Kubernetes API).

`RegistryClient` reads image configs (manifest + config blob, never layers), tag lists, the
catalog and, on Docker Hub and ghcr.io, a namespace's repositories through their own APIs
(`listing`); failures are RegistryError subclasses classified once in `errors`. The rules applied to
what it reads live in the pure `controller.catalog`.
"""

from controller.registry.client import ImageConfig, RegistryClient
from controller.registry.errors import (
    ImageNotFoundError,
    RegistryError,
    RegistryProtocolError,
    RegistryRateLimitedError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)
from controller.registry.settings import RegistrySettings

__all__ = [
    "ImageConfig",
    "ImageNotFoundError",
    "RegistryClient",
    "RegistryError",
    "RegistryProtocolError",
    "RegistryRateLimitedError",
    "RegistrySettings",
    "RegistryUnauthorizedError",
    "RegistryUnreachableError",
]
