"""Kubernetes resource quantities ("64Gi", "1.5G", "500M", "12345") as bytes, and back for display.

`kubernetes.utils.parse_quantity` does the same, but `api/` and the controller's pure core may not
import the Kubernetes client (import-linter); the grammar is small and fixed by the API conventions.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_SUFFIX: dict[str, Decimal | int] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
# Binary suffixes are upper-case (Ki, not ki); decimal ones are n u m k M G T P E (API conventions).
# A number, then either a decimal exponent or a suffix, never both.
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([KMGTPE]i|[numkMGTPE])?$")
GIB = 2**30


class QuantityError(ValueError):
    pass


def quantity_bytes(value: str | int | float | None) -> int:
    """Bytes (rounded up) of a quantity; 0 for None or empty."""
    if value is None or value == "":
        return 0
    if isinstance(value, int | float):
        return math.ceil(value)
    return math.ceil(quantity_value(value))


def quantity_value(value: str | int | float | None) -> Decimal:
    """The exact amount of a quantity ("500m" → 0.5, "2Gi" → 2147483648); 0 for None or empty.
    For comparisons such as a node's allocatable CPU against a request, where rounding would lie."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise QuantityError(f"{value!r} is not a quantity")
    number, suffix = match.groups()
    if suffix and ("e" in number.lower()):
        raise QuantityError(f"{value!r} is not a quantity")
    try:
        amount = Decimal(number)
    except InvalidOperation as error:
        raise QuantityError(f"{value!r} is not a quantity") from error
    return amount * _SUFFIX[suffix or ""]


def binary_quantity(size_bytes: int) -> str:
    """A byte count as Kubernetes writes a binary quantity (resource.Quantity in BinarySI): the
    largest power-of-1024 suffix that divides it exactly ("512Mi", "1536Mi", "60Gi"), else the
    plain number. Upstream writes discovered sizes so."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIX[suffix])
        if size_bytes and size_bytes % unit == 0:
            return f"{size_bytes // unit}{suffix}"
    return str(size_bytes)


_DECIMAL_SUFFIXES = (
    ("E", 18),
    ("P", 15),
    ("T", 12),
    ("G", 9),
    ("M", 6),
    ("k", 3),
    ("", 0),
    ("m", -3),
    ("u", -6),
    ("n", -9),
)


def canonical_quantity(value: str | int) -> str:
    """A quantity as Kubernetes writes it back (resource.Quantity's canonical form), which is what
    upstream's Go controller puts in the objects it generates: "2000m" → "2", "0.5" → "500m",
    "1000" → "1k", "1024Mi" → "1Gi", "1536Mi" stays. Binary suffixes stay binary when the amount
    is a whole number of bytes; amounts below a nano-unit round up (as Kubernetes rounds them).
    An exponent ("1e3") is written with a suffix ("1k"), where Kubernetes keeps the exponent form."""
    text = str(value).strip()
    amount = quantity_value(text)
    match = _QUANTITY.match(text)
    suffix = (match.group(2) if match else None) or ""
    if suffix.endswith("i") and amount == amount.to_integral_value() and amount >= 1024:
        return binary_quantity(int(amount))
    nanos = math.ceil(amount * 10**9)
    if nanos == 0:
        return "0"
    for name, exponent in _DECIMAL_SUFFIXES:
        unit = 10 ** (exponent + 9)
        if nanos % unit == 0:
            return f"{nanos // unit}{name}"
    return f"{nanos}n"  # not reached: the last suffix, n, divides every count of nano-units


def display_size(size_bytes: int) -> str:
    """Human size with binary units, e.g. 16.2 GiB."""
    amount = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def whole_gibibytes(size_bytes: int, headroom_percent: int) -> str:
    """A PVC request: size plus headroom, rounded up to whole Gi, at least 1Gi."""
    gib = math.ceil(size_bytes * (100 + headroom_percent) / 100 / GIB)
    return f"{max(gib, 1)}Gi"
