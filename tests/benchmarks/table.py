"""The benchmark result rows and their table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    scenario: str
    profiles: int
    scale: float
    wall: float
    calls: int
    throttled: int
    minimum: float | None = None
    measured: float | None = None  # the part compared with the minimum (default: wall)
    rss_mb: float = 0.0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.minimum:
            return None
        return (self.measured if self.measured is not None else self.wall) / self.minimum


HEADERS = (
    "scenario",
    "profiles",
    "scale",
    "wall s",
    "API calls",
    "429s",
    "min s",
    "ratio",
    "peak RSS MB",
)


class ShownRows(list[Row]):
    """The rows so far, each printed as it is added: a long run (10,000,000 profiles) shows
    its figures scenario by scenario, not only in the table at the end."""

    def append(self, row: Row) -> None:
        super().append(row)
        if row.scenario:
            print("done: " + " | ".join(_cells(row)), flush=True)
            if row.note:
                print(f"  {row.note}", flush=True)


def _cells(row: Row) -> tuple[str, ...]:
    ratio = row.ratio
    return (
        row.scenario,
        f"{row.profiles:,}",
        f"{row.scale:g}",
        f"{row.wall:.1f}",
        f"{row.calls:,}",
        str(row.throttled),
        "-" if row.minimum is None else f"{row.minimum:.1f}",
        "-" if ratio is None else f"{ratio:.2f}",
        f"{row.rss_mb:.0f}",
    )


def render(rows: list[Row], import_rate: float) -> str:
    """A markdown table, then one note line per row that has one."""
    cells = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]

    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    out = [f"sandbox import rate {import_rate:,.0f} profiles/s; scale = time scale (1 = real time)"]
    out += [line(HEADERS), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(c) for c in cells[1:]]
    out += [f"- {r.scenario}: {r.note}" for r in rows if r.note]
    return "\n".join(out)
