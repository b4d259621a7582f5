"""The run report: one model (:mod:`.model`), one renderer module per format. ``RENDERERS`` maps each
``--format`` word to a ``render(doc, *, color=None) -> str``. The tables of the snapshot commands (diff,
trend, top, retainers) are rendered by :mod:`.tables_text`, :mod:`.tables_markdown` and :mod:`.tables_json`."""

from __future__ import annotations

from . import html, json_report, markdown, terminal

RENDERERS = {
    "text": terminal.render,
    "markdown": markdown.render,
    "json": json_report.render,
    "html": html.render,
}
