"""Settings for the test suite: a throwaway data directory and a fast password hasher."""

import os
import tempfile

os.environ["SALUS_TESTING"] = "True"
if "SALUS_HOME" not in os.environ or not os.environ.get("SALUS_TEST_KEEP_HOME"):
    os.environ["SALUS_HOME"] = tempfile.mkdtemp(prefix="salus-test-")

from salus.settings import *  # noqa: E402,F403

# Argon2 is deliberately slow; tests that check the real hasher set it themselves.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# WhiteNoise warns when STATIC_ROOT is missing; tests serve static files from the finders.
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405

# In-memory test databases need no write lock; Django's own backend also keeps pytest-django's
# per-worker database naming (it recognises the engine by name).
if DATABASES["default"]["ENGINE"] == "salus.core.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"  # noqa: F405
