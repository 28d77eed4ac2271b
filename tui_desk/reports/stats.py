"""Small statistics the reports share: median, p90, rates, rounding for JSON."""

from __future__ import annotations


def percentiles(values: list[float]) -> dict:
    """{"median", "p90"} of `values` in seconds (None when empty).

    The median is the middle value (the mean of the two middle ones for an even count);
    p90 is nearest-rank: the smallest value with at least 90 % of values at or below it."""
    if not values:
        return {"median": None, "p90": None}
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    rank = -(-9 * n // 10)  # ceil(0.9 n) in integers, so 10 values give rank 9
    return {"median": seconds(median), "p90": seconds(ordered[rank - 1])}


def median(values: list[float]) -> float | None:
    return percentiles(values)["median"]


def seconds(value: float | None) -> float | None:
    """Seconds as JSON shows them: whole when whole, else to the millisecond."""
    if value is None:
        return None
    value = round(value, 3)
    return int(value) if value == int(value) else value


def rate(part: int, whole: int) -> float | None:
    """part / whole to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def mean(total: float, count: int) -> float | None:
    return round(total / count, 4) if count else None
