"""Nothing sensitive is readable in the database files: written values are searched for in the
raw bytes of the SQLite database and its write-ahead log."""

from __future__ import annotations

import json

from tests.security import fresh

NOTE = "Sleeps behind the old bus depot"
DETAIL = "Found unresponsive near the river steps"
UIC = "ZAKA1979M"


def test_it_stores_no_sensitive_value_in_plain_text(tmp_path):
    out = fresh.python(tmp_path, fresh.SEED.format(uic=UIC, note=NOTE, detail=DETAIL) + """
import json, pathlib
from django.conf import settings
from salus.services.models import Contact, OverdoseEvent
db = pathlib.Path(settings.DATABASES["default"]["NAME"])
# Read the files while the connection is open, so the write-ahead log is still there.
files = {p.name: p.read_bytes() for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()}
c = Contact.objects.get()
print(json.dumps({
    "files": {name: len(data) for name, data in files.items()},
    "found": {name: [w for w in ("positive", "not_on_art", %r, %r, %r) if w.encode() in data] for name, data in files.items()},
    "roundtrip": [c.notes, c.hiv_result, c.hcv_result, c.art_status, OverdoseEvent.objects.get().details],
}))
""" % (NOTE, DETAIL, UIC), init=True)  # noqa: UP031
    report = json.loads(out.strip().splitlines()[-1])
    # The values were really stored (the application reads them back)...
    assert report["roundtrip"] == [NOTE, "positive", "positive", "not_on_art", DETAIL]
    # ...in files that hold data, the log included...
    assert report["files"]["salus.sqlite3"] > 0 and report["files"].get("salus.sqlite3-wal", 0) > 0
    # ...and none of them, nor the raw UIC, is in any file.
    assert report["found"] == {name: [] for name in report["files"]}
    # After the child closed the database (checkpoint), no file in the data directory but the
    # keys holds any of them either.
    data = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "keys" not in p.parts)
    for needle in (UIC, NOTE, DETAIL, "not_on_art"):
        assert needle.encode() not in data, needle
