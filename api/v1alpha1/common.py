"""Sub-structures shared by several v1alpha1 kinds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schema import CRDModel, SchemaDefault

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ParentReference(CRDModel):
    """A Gateway API parent (normally a Gateway) that HTTPRoutes attach to."""

    group: Annotated[
        str, SchemaDefault("gateway.networking.k8s.io"), Field(max_length=253, pattern=r"^$|" + DNS_SUBDOMAIN)
    ] = "gateway.networking.k8s.io"
    """API group of the parent."""
    kind: Annotated[
        str,
        SchemaDefault("Gateway"),
        Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"),
    ] = "Gateway"
    """Kind of the parent."""
    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the parent."""
    namespace: Annotated[str | None, Field(min_length=1, max_length=63, pattern=DNS_LABEL)] = None
    """Namespace of the parent; the route's namespace when unset."""
    port: Annotated[int | None, Field(ge=1, le=65535)] = None
    """Listener port to attach to."""
    section_name: Annotated[str | None, Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)] = None
    """Listener name to attach to."""


class StorageConfig(CRDModel):
    default_storage_class_name: str | None = None
    """Storage class for model cache volumes when the consumer names none; the cluster default otherwise."""
    pvc_headroom_percent: Annotated[int, SchemaDefault(10), Field(ge=0)] = 10
    """Extra space, in percent of the model size, added to every cache volume."""


class RoutingConfig(CRDModel):
    enabled: bool | None = None
    """Create a Gateway API HTTPRoute for each service."""
    gateway_ref: ParentReference | None = None
    """The Gateway the routes attach to."""
    path_template: str | None = None
    """Route path template: JSONPath fragments in `{...}` rendered against the AIMService,
    e.g. `/{.metadata.namespace}/{.metadata.name}`. Default `/<namespace>/<service-uid>`."""
    request_timeout: str | None = None
    """Request timeout on the route, as a Gateway API duration such as `60s`."""
    annotations: dict[str, str] | None = None
    """Annotations added to every HTTPRoute."""
