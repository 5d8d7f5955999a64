"""The upstream operator's column in the controller benchmark (bench.upstream): what counts as its
InferenceService converged, and its request counts read from controller-runtime's metrics."""

from __future__ import annotations

from typing import Any

import pytest

from bench.upstream import expected, requests_by_method

IMAGE = "registry.local/amdenterpriseai/aim-qwen3-32b:0.8.5"


def isvc(
    image: str = IMAGE, gpus: Any = "1", owner: str = "AIMService", volume: bool = True, in_model: bool = False
) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image, "resources": {"requests": {"amd.com/gpu": gpus}}}
    predictor: dict[str, Any] = {"model": container} if in_model else {"containers": [container]}
    if volume:
        predictor["volumes"] = [{"name": "cache", "persistentVolumeClaim": {"claimName": "c"}}]
    return {"metadata": {"name": "x", "ownerReferences": [{"kind": owner}]}, "spec": {"predictor": predictor}}


@pytest.mark.parametrize(
    ("obj", "converged"),
    [
        pytest.param(isvc(), True, id="as-expected"),
        pytest.param(isvc(gpus=1), True, id="a-number-of-gpus"),
        pytest.param(isvc(in_model=True), True, id="a-model-spec-predictor"),
        pytest.param(isvc(image="other:1"), False, id="another-image"),
        pytest.param(isvc(gpus="2"), False, id="two-gpus"),
        pytest.param(isvc(owner="AIMModel"), False, id="another-owner"),
        pytest.param(isvc(volume=False), False, id="no-cache-volume-yet"),
    ],
)
def test_expected(obj: dict[str, Any], converged: bool) -> None:
    assert expected(obj, IMAGE) is converged


def test_requests_by_method_sums_codes_and_hosts() -> None:
    metrics = "\n".join(
        [
            "# HELP rest_client_requests_total Number of HTTP requests",
            'rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 12',
            'rest_client_requests_total{code="404",host="127.0.0.1:6443",method="GET"} 3',
            'rest_client_requests_total{code="201",host="127.0.0.1:6443",method="POST"} 5',
            'rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 1e+03',
            'workqueue_adds_total{name="aimservice"} 99',
        ]
    )
    assert requests_by_method(metrics) == {"GET": 15.0, "POST": 5.0, "PATCH": 1000.0}
