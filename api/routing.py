"""Route paths for AIMService HTTPRoutes, rendered from a template (shared by the admission
webhook, which refuses bad templates early, and the controller, which renders them).

A template mixes literal text with Kubernetes JSONPath in braces, evaluated against the whole
AIMService: `/{.metadata.namespace}/{.metadata.labels['team']}/{.spec.model.name}`. Each segment is
lower-cased and RFC 3986-encoded, empty segments (duplicate slashes) are dropped, the trailing
slash is trimmed, and the result must fit 200 characters.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote

from jsonpath_ng.ext.parser import parse

MAX_PATH_LENGTH = 200
_EXPRESSION = re.compile(r"\{([^{}]*)\}")


class RouteTemplateError(ValueError):
    """The template cannot be rendered for this object; the message says why."""


def default_route_path(namespace: str, uid: str) -> str:
    return normalise_path(f"/{namespace}/{uid}")


def check_template_syntax(template: str) -> None:
    """Raise RouteTemplateError when an expression does not parse (no object needed)."""
    if template.count("{") != template.count("}"):
        raise RouteTemplateError("unbalanced braces")
    for expression in _EXPRESSION.findall(template):
        _compile(expression)


def render_route_path(template: str, obj: dict[str, Any]) -> str:
    check_template_syntax(template)
    rendered = _EXPRESSION.sub(lambda m: _evaluate(m.group(1), obj), template)
    return normalise_path(rendered)


def normalise_path(rendered: str) -> str:
    segments = [quote(s.lower(), safe="-._~") for s in rendered.strip().split("/") if s.strip()]
    if not segments:
        raise RouteTemplateError("the template renders to an empty path")
    path = "/" + "/".join(segments)
    if len(path) > MAX_PATH_LENGTH:
        raise RouteTemplateError(f'route path "{path[:60]}..." is {len(path)} characters; at most {MAX_PATH_LENGTH}')
    return path


@functools.lru_cache(maxsize=1024)
def _compile(expression: str) -> Any:
    """Parsed once per distinct expression: jsonpath-ng builds its parser tables on every parse
    (about 1 ms), which dominated admission latency before this cache."""
    expression = expression.strip()
    if not expression.startswith("."):
        raise RouteTemplateError(f"{{{expression}}} is not a JSONPath such as {{.metadata.name}}")
    try:
        return parse("$" + expression)
    except Exception as error:  # jsonpath-ng raises several exception types for bad input
        raise RouteTemplateError(f"{{{expression}}} does not parse: {error}") from error


def _evaluate(expression: str, obj: dict[str, Any]) -> str:
    matches = [m.value for m in _compile(expression).find(obj)]
    if not matches:
        raise RouteTemplateError(f"{{{expression.strip()}}} matches nothing in this object")
    if len(matches) > 1:
        raise RouteTemplateError(f"{{{expression.strip()}}} matches {len(matches)} values; it must match one")
    value = matches[0]
    if isinstance(value, dict | list) or value is None:
        raise RouteTemplateError(f"{{{expression.strip()}}} is not a single value")
    return str(value).strip()
