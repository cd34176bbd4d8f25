"""Terminal helpers shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

T = TypeVar("T")


def progress(items: Iterable[T], label: str) -> ProgressBar[T]:
    """A progress bar on stderr; off a terminal click prints the label only."""
    return click.progressbar(items, label=label, file=sys.stderr)
