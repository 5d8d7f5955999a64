"""The protocol sequence and each protocol's environment."""

from __future__ import annotations

import pytest

from downloader.protocols import (
    Protocol,
    ProtocolPlanError,
    plan_hf_protocols,
    protocol_environment,
    s3_plan,
)


@pytest.mark.parametrize(
    ("raw", "names", "protocols"),
    [
        pytest.param(None, ["XET", "HF_TRANSFER"], [Protocol.XET, Protocol.HF_TRANSFER], id="unset-is-default"),
        pytest.param("", ["XET", "HF_TRANSFER"], [Protocol.XET, Protocol.HF_TRANSFER], id="empty-is-default"),
        pytest.param("HTTP", ["HTTP"], [Protocol.HTTP], id="single"),
        pytest.param(
            " xet , http ,hf_transfer",
            ["XET", "HTTP", "HF_TRANSFER"],
            [Protocol.XET, Protocol.HTTP, Protocol.HF_TRANSFER],
            id="case-and-spaces",
        ),
        pytest.param("XET,FTP,HTTP", ["XET", "FTP", "HTTP"], [Protocol.XET, None, Protocol.HTTP], id="unknown-kept"),
        pytest.param("HTTP,,HTTP", ["HTTP", "HTTP"], [Protocol.HTTP, Protocol.HTTP], id="repeats-and-blanks"),
    ],
)
def test_plan(raw: str | None, names: list[str], protocols: list[Protocol | None]) -> None:
    plan = plan_hf_protocols(raw)
    assert [a.name for a in plan.attempts] == names
    assert [a.protocol for a in plan.attempts] == protocols
    assert [a.number for a in plan.attempts] == list(range(1, len(names) + 1))
    assert plan.total_attempts == len(names)


def test_sequence_is_reported_as_written() -> None:
    assert plan_hf_protocols("XET,HTTP").sequence == "XET,HTTP"
    assert plan_hf_protocols(None).sequence == "XET,HF_TRANSFER"


@pytest.mark.parametrize("raw", ["FTP", "S3", "FTP,SCP", " , "[:-1] + "x"])
def test_no_known_protocol_is_a_usage_error(raw: str) -> None:
    with pytest.raises(ProtocolPlanError, match="names no known protocol"):
        plan_hf_protocols(raw)


@pytest.mark.parametrize(
    ("protocol", "disable_xet"),
    [(Protocol.XET, "0"), (Protocol.HF_TRANSFER, "1"), (Protocol.HTTP, "1")],
)
def test_environment(protocol: Protocol, disable_xet: str) -> None:
    env = protocol_environment(protocol)
    assert env["HF_HUB_DISABLE_XET"] == disable_xet
    assert env["HF_HUB_ENABLE_HF_TRANSFER"] == "0"  # ignored by huggingface_hub >= 1.0; we call hf_transfer


def test_s3_has_one_attempt() -> None:
    plan = s3_plan()
    assert [(a.name, a.protocol) for a in plan.attempts] == [("S3", Protocol.S3)]
