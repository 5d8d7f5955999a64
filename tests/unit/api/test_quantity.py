"""api.quantity: Kubernetes quantities as bytes, sizes for display and PVC requests (tables)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.quantity import (
    GIB,
    QuantityError,
    binary_quantity,
    display_size,
    quantity_bytes,
    quantity_value,
    whole_gibibytes,
)

MIB = 2**20


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("64Gi", 64 * GIB, id="gibibytes"),
        pytest.param("0.5Gi", GIB // 2, id="fraction-of-gibibytes"),
        pytest.param("2G", 2 * 10**9, id="gigabytes"),
        pytest.param("1.5G", 1_500_000_000, id="decimal-gigabytes"),
        pytest.param("1.1G", 1_100_000_000, id="decimal-exact-no-float-error"),
        pytest.param("512Mi", 512 * MIB, id="mebibytes"),
        pytest.param("500M", 500 * 10**6, id="megabytes"),
        pytest.param("4Ki", 4096, id="kibibytes"),
        pytest.param("3k", 3000, id="kilo"),
        pytest.param("1Ti", 2**40, id="tebibytes"),
        pytest.param("1E", 10**18, id="exa-suffix"),
        pytest.param("1500m", 2, id="millis-rounded-up"),
        pytest.param("1m", 1, id="one-milli-is-one-byte"),
        pytest.param("12345", 12345, id="plain-integer-string"),
        pytest.param(" 8Gi ", 8 * GIB, id="surrounding-space"),
        pytest.param("+2Mi", 2 * MIB, id="explicit-plus"),
        pytest.param("-1Gi", -GIB, id="negative"),
        pytest.param("1e3", 1000, id="exponent"),
        pytest.param("2.5E9", 2_500_000_000, id="upper-case-exponent"),
        pytest.param("250u", 1, id="micro-rounded-up"),
        pytest.param(42, 42, id="int"),
        pytest.param(1.2, 2, id="float-rounded-up"),
        pytest.param(None, 0, id="none"),
        pytest.param("", 0, id="empty"),
    ],
)
def test_quantity_bytes(value: str | int | float | None, expected: int) -> None:
    assert quantity_bytes(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("lots", id="word"),
        pytest.param("Gi", id="suffix-only"),
        pytest.param("10 Gi", id="space-inside"),
        pytest.param("10GB", id="unit-not-kubernetes"),
        pytest.param("10K", id="upper-case-k"),
        pytest.param("1.2.3", id="two-dots"),
        pytest.param(".", id="dot"),
        pytest.param("1e", id="exponent-without-digits-is-not-exa-either"),
        pytest.param("1e3Ki", id="exponent-and-suffix"),
        pytest.param("4ki", id="lower-case-binary-kilo"),
    ],
)
def test_invalid_quantities_raise(value: str) -> None:
    with pytest.raises(QuantityError, match="is not a quantity"):
        quantity_bytes(value)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        pytest.param(0, "0 B", id="zero"),
        pytest.param(1023, "1023 B", id="bytes"),
        pytest.param(1024, "1.0 KiB", id="one-kibibyte"),
        pytest.param(1536 * MIB, "1.5 GiB", id="gibibytes"),
        pytest.param(int(16.2 * GIB), "16.2 GiB", id="model-size"),
        pytest.param(2**40, "1.0 TiB", id="tebibyte"),
        pytest.param(2**50, "1024.0 TiB", id="tebibytes-is-the-largest-unit"),
    ],
)
def test_display_size(size: int, shown: str) -> None:
    assert display_size(size) == shown


@pytest.mark.parametrize(
    ("size", "headroom", "claim"),
    [
        pytest.param(10 * GIB, 10, "11Gi", id="ten-percent-exact"),
        pytest.param(GIB, 10, "2Gi", id="rounded-up-to-whole-gi"),
        pytest.param(2 * GIB, 0, "2Gi", id="no-headroom-exact"),
        pytest.param(2 * GIB + 1, 0, "3Gi", id="one-byte-over"),
        pytest.param(15 * 10**9, 10, "16Gi", id="decimal-size"),
        pytest.param(100 * GIB, 25, "125Gi", id="large-headroom"),
        pytest.param(1, 10, "1Gi", id="tiny-is-one-gi"),
        pytest.param(0, 10, "1Gi", id="zero-is-one-gi"),
    ],
)
def test_whole_gibibytes(size: int, headroom: int, claim: str) -> None:
    assert whole_gibibytes(size, headroom) == claim


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        pytest.param("500m", Decimal("0.5"), id="millicores"),
        pytest.param("1.5", Decimal("1.5"), id="fractional-cores"),
        pytest.param(2, Decimal(2), id="int"),
        pytest.param("263834476Ki", Decimal(263834476 * 1024), id="kubelet-memory-in-ki"),
    ],
)
def test_quantity_value_is_exact(value: str | int, exact: Decimal) -> None:
    assert quantity_value(value) == exact


@pytest.mark.parametrize(
    ("size", "written"),
    [
        (2**29, "512Mi"),
        (3 * 2**29, "1536Mi"),
        (60 * 2**30, "60Gi"),
        (2**40, "1Ti"),
        (1000, "1000"),
        (2048, "2Ki"),
        (0, "0"),
    ],
)
def test_binary_quantity_as_kubernetes_writes_it(size: int, written: str) -> None:
    assert binary_quantity(size) == written
    assert quantity_bytes(written) == size
