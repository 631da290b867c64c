"""Building CSV files for the transfer tests."""

from __future__ import annotations

import csv
import io

from salus.transfer.importers.contacts import COLUMNS as CONTACT_COLUMNS

GOOD_CONTACT = {
    "date": "2025-03-04", "site": "NA1", "uic": "MAJO1985M", "sex": "M", "birth_year": "1985",
    "injects": "yes", "syringes_given": "20", "syringes_returned": "15", "condoms_given": "5",
    "naloxone_kits_given": "1", "education": "yes", "hiv_test_result": "negative",
    "hcv_test_result": "positive", "referral_to": "hcv_care",
}


def csv_bytes(columns, rows, *, encoding="utf-8", newline="\r\n") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator=newline)
    w.writerow(columns)
    for row in rows:
        w.writerow([row.get(c, "") for c in columns] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def contact(**changes) -> dict:
    return {**GOOD_CONTACT, **changes}


def contacts_file(*rows: dict, **kw) -> bytes:
    return csv_bytes(CONTACT_COLUMNS, rows, **kw)
