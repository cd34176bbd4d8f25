"""``python -m bench hitpath`` rewrites only its own section of docs/benchmarks.md, and a
whole report written without a hitpath result keeps the section already there."""

from __future__ import annotations

from bench.report_hitpath import END, START, kept_section, splice

SECTION = [START, "## Cache HIT cost", "", "new figures", END]


def test_splice_puts_a_new_section_before_the_steps_and_keeps_the_rest(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Fynix benchmarks\n\n## HTTP\n\nold http\n\n## Steps\n\n| step |\n")
    splice(path, SECTION)
    text = path.read_text()
    assert text.index("old http") < text.index(START) < text.index(END) < text.index("## Steps")
    assert text.endswith("| step |\n")


def test_splice_replaces_only_the_old_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(f"# T\n\nbefore\n{START}\nold figures\n{END}\nafter\n")
    splice(path, SECTION)
    text = path.read_text()
    assert "old figures" not in text
    assert text == "# T\n\nbefore\n" + "\n".join(SECTION) + "\nafter\n"
    assert kept_section(path) == SECTION


def test_a_document_without_the_section_keeps_nothing(tmp_path):
    path = tmp_path / "benchmarks.md"
    assert kept_section(path) is None
    path.write_text("# T\n\n## Steps\n")
    assert kept_section(path) is None
