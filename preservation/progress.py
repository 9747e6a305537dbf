"""Progress bars for long work, on stderr so that stdout stays clean for data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

T = TypeVar("T")
_console = Console(stderr=True)


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="cyan")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield from `items` while showing a bar with count, rate and elapsed time (on a terminal)."""
    if not _console.is_terminal:
        yield from items
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


class LinesColumn(ProgressColumn):
    """Lines done and lines per second, for work measured in bytes but counted in lines."""

    def render(self, task: Task) -> Text:
        lines = task.fields.get("lines", 0)
        elapsed = task.elapsed or 0.0
        rate = f" {lines / elapsed:,.0f} lines/s" if elapsed > 0 else ""
        return Text(f"{lines:,} lines{rate}", style="cyan")


@contextmanager
def meter(description: str, total_bytes: int | None) -> Iterator[Callable[[int, int], None]]:
    """A bar over bytes that also shows lines and lines/s; yields `advance(bytes, lines)`."""
    if not _console.is_terminal:
        yield lambda _bytes, _lines: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        LinesColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_console, transient=True) as bar:
        task = bar.add_task(description, total=total_bytes, lines=0)

        def advance(done_bytes: int, lines: int) -> None:
            lines_so_far = bar.tasks[task].fields["lines"] + lines
            bar.update(task, advance=done_bytes, lines=lines_so_far)

        yield advance


@contextmanager
def step(description: str) -> Iterator[None]:
    """A spinner with elapsed time for work that cannot count its progress (a big query)."""
    if not _console.is_terminal:
        yield
        return
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=_console, transient=True) as bar:
        bar.add_task(description, total=None)
        yield
