"""Terminal tables that fit the terminal without cutting anything.

rich sizes a column no narrower than its longest word, so one long serial, path or hash makes the
table wider than the terminal, and rich then crops every line at the right edge: the last columns
vanish without an ellipsis. Here every column gets an explicit width that fits: columns start at
their natural width, the widest shrinks first (never below its minimum while others can give),
and text folds inside its column. Identifiers a user must type (check ids, serials) get their
whole length as minimum, so they stay on one line whenever the terminal allows it at all.
"""

from __future__ import annotations

from typing import Optional, Sequence


def natural_width(cell: str) -> int:
    """Widest line of a rich-markup cell, in terminal cells."""
    from rich.cells import cell_len
    from rich.text import Text
    return max((cell_len(line) for line in Text.from_markup(cell).plain.split("\n")), default=0)


def fit(available: int, naturals: Sequence[int], minimums: Sequence[int],
        keep: Sequence[bool] = ()) -> list[int]:
    """Widths summing to at most ``available``. The widest column above its floor gives first;
    floors: the minimums; then 4 cells for the columns not marked in ``keep`` (identifiers keep
    theirs); then 3 cells for all."""
    n = len(naturals)
    keep = list(keep) + [False] * (n - len(keep))
    widths = [max(1, w) for w in naturals]
    excess = sum(widths) - available
    floors = (list(minimums), [minimums[i] if keep[i] else 4 for i in range(n)], [3] * n)
    for floor in floors:
        while excess > 0:
            give = [i for i, w in enumerate(widths) if w > max(1, floor[i])]
            if not give:
                break
            i = max(give, key=lambda k: widths[k])
            widths[i] -= 1
            excess -= 1
    return widths


def fitted_table(console, headers: Sequence[str], rows: Sequence[Sequence[str]],
                 minimums: Optional[Sequence[Optional[int]]] = None, **table_kw):
    """A rich Table of ``rows`` (rich markup, already escaped) whose columns fit ``console``.

    ``minimums[i]``: the width column i keeps while any other can give (an identifier's whole
    length); None: 8 cells, or less when the column's content is narrower.
    """
    from rich.table import Table
    n = len(headers)
    naturals = [max([natural_width(h) for h in headers[i].split()] + [natural_width(r[i]) for r in rows] + [1])
                for i in range(n)]
    mins = [min(naturals[i], 8 if (minimums is None or minimums[i] is None) else minimums[i]) for i in range(n)]
    available = console.width - (3 * n + 1)  # borders and one cell of padding on each side
    keep = [minimums is not None and minimums[i] is not None for i in range(n)]
    widths = fit(available, naturals, mins, keep)
    table = Table(**table_kw)
    for header, width in zip(headers, widths):
        table.add_column(header, width=width, overflow="fold")
    for r in rows:
        table.add_row(*r)
    return table
