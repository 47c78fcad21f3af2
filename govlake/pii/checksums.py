"""Check digits of Chinese identifiers: GB 11643 (resident identity numbers) and Luhn (bank
cards). One definition for the recognizers, the native Spark check and the sample generator."""
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
