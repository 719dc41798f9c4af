"""Diff two lists of lines."""


def diff(a, b):
    """The edit from a to b as (op, line) pairs: " " kept, "-" removed from a, "+" added from b."""
    n, m = len(a), len(b)
    # lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:]
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if a[i] == b[j]:
                lcs[i][j] = lcs[i + 1][j + 1] + 1
            else:
                lcs[i][j] = max(lcs[i + 1][j], lcs[i][j + 1])
    ops = []
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            ops.append((" ", a[i]))
            i += 1
            j += 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            ops.append(("-", a[i]))
            i += 1
        else:
            ops.append(("+", b[j]))
            j += 1
    return ops


def render(ops):
    """The ops as text, one line each, prefixed by their op."""
    return "\n".join(op + line for op, line in ops)


def stats(ops):
    """Counts of added, removed and unchanged lines."""
    counts = {"added": 0, "removed": 0, "unchanged": 0}
    names = {"+": "added", "-": "removed", " ": "unchanged"}
    for op, _ in ops:
        counts[names[op]] += 1
    return counts
