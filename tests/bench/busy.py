"""The time an emulator was busy with a set of requests, as its request log gives them.

Each request's service time runs from its request line read to its answer encoded; two
requests in flight together (one waiting on the store's lock inside its own time) count
once: the busy time is the length of the union of those spans.
"""


def busy(requests):
    spans = sorted((r["started"], r["started"] + r["duration_ms"] / 1000.0) for r in requests)
    total, end = 0.0, None
    for a, z in spans:
        if end is None or a > end:
            total += z - a
            end = z
        elif z > end:
            total += z - end
            end = z
    return total
