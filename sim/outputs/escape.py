"""Untrusted text shown as text: the one place that says how, for the terminal and for pages.

Scenario strings (questions, labels, units), paths and messages are shown to people, and none of them
may act on what shows them: on a terminal, a control character (an escape sequence, a bell, a
bidirectional override) is written out as an escape (``visible``); in a page or a plotly figure, markup
shows as text (``esc``: HTML-escaped, as plotly renders a subset of HTML in titles, legends and hover
text) and control characters are written out the same way.
"""

from __future__ import annotations

import html
import re

# C0 controls but newline and tab, DEL, C1 controls, the Arabic letter mark and other bidirectional
# marks, overrides and isolates, the line and paragraph separators, lone surrogates.
UNSAFE = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]"
)


def visible(text: str) -> str:
    """``text`` with every character that could act on a terminal written out as an escape (an escape
    character becomes the four characters \\x1b); everything else, newlines included, unchanged."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def esc(text: object) -> str:
    """Any value as text that is safe inside HTML and plotly strings: markup shows, never runs."""
    return html.escape(visible(str(text)), quote=True)
