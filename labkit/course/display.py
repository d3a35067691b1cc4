"""How course objects show themselves: tables (:class:`Table`, :class:`ShowsAsTable`, from
:mod:`labkit.cognito.display`) and pictures (:class:`ShowsAsPng`, :class:`Diagram`).

A picture is a PNG in Jupyter and on GitHub, and says the same in words as text, so that nbval
(which compares text) and a reader without images see what it shows.
"""
from __future__ import annotations

import io

from ..cognito.display import ShowsAsTable, Table

__all__ = ["Table", "ShowsAsTable", "ShowsAsPng", "Diagram"]


class ShowsAsPng:
    """Mixin for pictures: define ``png() -> bytes``; Jupyter shows it, ``save(path)`` writes it."""

    def png(self) -> bytes:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def _repr_png_(self) -> bytes:
        return self.png()

    def save(self, path) -> None:
        """Write the PNG to ``path``."""
        with open(path, "wb") as f:
            f.write(self.png())


class Diagram(ShowsAsPng):
    """A matplotlib figure that displays as a PNG in Jupyter and as ASCII art as text."""

    def __init__(self, figure, text: str) -> None:
        self.figure = figure
        self.text = text

    def png(self) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        buffer = io.BytesIO()
        FigureCanvasAgg(self.figure).print_png(buffer, metadata={"Software": None})
        return buffer.getvalue()

    def __repr__(self) -> str:
        return self.text
