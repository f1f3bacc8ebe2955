"""mkdocs hook: the documentation's equations as MathML, rendered when the site is built.

pymdownx.arithmatex (generic mode) marks ``$...$`` and ``$$...$$`` in the Markdown; this hook turns each
marked span into MathML with latex2mathml, which every current browser draws natively: no script, no font
download, so the site renders the same offline. A formula latex2mathml cannot read fails the build with its
page and its text.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_MARKED = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])\s*</(?P=tag)>',
    re.DOTALL,
)


def to_mathml(latex: str, display: str) -> str:
    """One formula (LaTeX, HTML-escaped as arithmatex leaves it) as a MathML element."""
    return convert(html.unescape(latex).strip(), display=display)


def on_page_content(content: str, page, config, files) -> str:
    """mkdocs' hook after a page's Markdown became HTML: every marked formula becomes MathML."""

    def replace(match: re.Match) -> str:
        block = match.group("block") is not None
        latex = match.group("block") if block else match.group("inline")
        try:
            math = to_mathml(latex, "block" if block else "inline")
        except Exception as exc:  # latex2mathml raises several types; the build must name the formula
            raise ValueError(f"{page.file.src_path}: cannot render ${latex}$ as MathML: {exc}") from None
        return f'<div class="math">{math}</div>' if block else math

    return _MARKED.sub(replace, content)
