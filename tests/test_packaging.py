"""A plain (non-editable) install must carry sql/ and migrations/ inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_sql_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("blogsvc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"blogsvc/sql/{p.name}" for p in (REPO / "sql").glob("*.sql")}
    expected |= {f"blogsvc/migrations/{p.name}" for p in (REPO / "migrations").glob("*.sql")}
    assert len(expected) >= 4
    assert expected <= names, sorted(expected - names)
    assert "blogsvc/cli.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
