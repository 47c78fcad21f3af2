"""Check digits of identifiers: GB 11643 (resident identity numbers), Luhn (bank cards, IMEI) and
ISO 3779 (vehicle identification numbers). One definition for the recognizers, the native Spark
check and the sample generator."""
from __future__ import annotations

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def id_check_ok(value: str) -> bool:
    v = value.upper()
    return len(v) == 18 and v[:17].isdigit() and id_check_digit(v[:17]) == v[17]


def _luhn_sum(digits: str, double_first: bool) -> int:
    """Luhn sum from the rightmost digit; `double_first` when that digit is itself doubled
    (computing a check digit for a body) rather than being the check digit."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if (i % 2 == 0) == double_first:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total


def luhn_ok(digits: str) -> bool:
    return _luhn_sum(digits, double_first=False) % 10 == 0


def luhn_digit(body: str) -> str:
    return str((10 - _luhn_sum(body, double_first=True) % 10) % 10)


VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
              **dict(zip("STUVWXYZ", range(2, 10)))}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 check digit (position 9) of a 17-character vehicle identification number."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin.upper(), VIN_WEIGHTS))
    return "X" if total % 11 == 10 else str(total % 11)


def vin_check_ok(vin: str) -> bool:
    v = vin.upper()
    return len(v) == 17 and all(c in VIN_VALUES for c in v) and vin_check_digit(v) == v[8]
