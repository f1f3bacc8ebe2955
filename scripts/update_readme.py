"""Regenerate the README's results table from the committed run folders in results/ (and results/REPORT.md).

    python scripts/update_readme.py

The table sits between the README's ``<!-- results:start -->`` and ``<!-- results:end -->`` markers;
tests/end_to_end/test_report.py fails when it differs from what results/ gives.
"""

from pathlib import Path

from bidir.report import collect, render_readme_table, write_report

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def main() -> None:
    write_report(ROOT / "results", ("md",))
    table = render_readme_table(collect(ROOT / "results")).strip()
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    print(f"README.md: results table from {ROOT / 'results'}")


if __name__ == "__main__":
    main()
