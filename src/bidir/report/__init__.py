"""The reproduction report: every paper claim, the paper's value beside ours, from a folder of run folders.

``bidir report DIR`` collects the run folders below DIR (:mod:`.collect`) and renders them with
Jinja2 templates (:mod:`.render`): a self-contained HTML file with the figures embedded, and a
Markdown file whose figures link into the run folders.
"""

from .collect import ClaimRow, Report, Run, collect, fmt
from .render import FORMATS, render, render_readme_table, write_report

__all__ = ["ClaimRow", "FORMATS", "Report", "Run", "collect", "fmt", "render", "render_readme_table", "write_report"]
