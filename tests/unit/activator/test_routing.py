"""The activator's routing (pure): a request path → the predictor of the AIMService it names."""

from __future__ import annotations

import pytest

from activator.routing import Demand, RouteError, target
from api.naming import inference_service_name


@pytest.mark.parametrize(
    ("path", "query", "url_end"),
    [
        pytest.param("/team/chat/v1/chat/completions", "", ".team.svc.cluster.local:80/v1/chat/completions", id="chat"),
        pytest.param("/team/chat/v1/models", "a=1&b=2", ".team.svc.cluster.local:80/v1/models?a=1&b=2", id="query"),
        pytest.param("/team/chat", "", ".team.svc.cluster.local:80/", id="service-root"),
    ],
)
def test_a_path_names_the_services_predictor(path: str, query: str, url_end: str) -> None:
    to = target(path, query)
    assert to.key == ("team", "chat")
    assert to.url == f"http://{inference_service_name('chat', 'team')}-predictor{url_end}"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/", "must start with /<namespace>/<service>/", id="empty"),
        pytest.param("/team", "must start with /<namespace>/<service>/", id="no-service"),
        pytest.param("/Team/chat/v1", "namespace 'Team' is not a valid name", id="upper-case"),
        pytest.param("/team/chat_1/v1", "service 'chat_1' is not a valid name", id="underscore"),
        pytest.param(f"/team/{'a' * 64}/v1", "is not a valid name", id="too-long"),
    ],
)
def test_a_path_that_names_no_service_says_which_part_is_wrong(path: str, message: str) -> None:
    with pytest.raises(RouteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        target(path)


def test_demand_is_what_is_held_plus_what_is_being_answered() -> None:
    demand = Demand.empty()
    demand.held[("a", "s")] += 2
    demand.answering[("a", "s")] += 1
    assert demand.report(("a", "s")) == {"value": 3, "held": 2, "answering": 1}
    assert demand.report(("a", "other")) == {"value": 0, "held": 0, "answering": 0}
