"""Modules stay under 400 lines (DESIGN.md; issue 19 item 8): split by responsibility. No module
is exempt: any module over the limit fails."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400


def line_counts() -> dict[str, int]:
    files = [*(ROOT / "genre_desktop").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
    return {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in files}


def test_no_module_is_over_400_lines():
    over = {path: n for path, n in line_counts().items() if n > LIMIT}
    assert over == {}, f"modules over {LIMIT} lines (split them by responsibility): {over}"
