"""The KPI endpoint's figures read again from a replay's database with the code of this tree.

    .venv/bin/python bench/replay_kpis.py DIR/replay.sqlite3 FROM TO [FROM TO ...]

Prints each seed figure (numerator / denominator) for each window of local dates, as
``GET /api/v1/reports/kpis`` would answer it: a figure added since the replay ran (the
placeable speedy cases) can be read off an older replay's database. Nothing is written.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ancillary import create_app  # noqa: E402
from ancillary.config import Settings  # noqa: E402
from ancillary.extensions import db  # noqa: E402
from ancillary.replay import actions  # noqa: E402


def main() -> int:
    path, *bounds = sys.argv[1:]
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"ANCILLARY_DATABASE_URL": f"sqlite:///{Path(path).resolve()}",
                                      "ANCILLARY_SECRET_KEY": "kpis", "ANCILLARY_QR_KEYS": "K1:kpis-read-only-0123456789",
                                      "ANCILLARY_STORAGE_DIR": folder})
        app = create_app(settings)
        with app.app_context():
            for first, last in zip(bounds[::2], bounds[1::2], strict=True):
                body = actions.kpis(db.session, date.fromisoformat(first), date.fromisoformat(last), settings)
                print(f"{first} .. {last}")
                for name, f in body["figures"].items():
                    print(f"  {name:44} {f['value']!s:>8}  ({f['numerator']}/{f['denominator']})")
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
