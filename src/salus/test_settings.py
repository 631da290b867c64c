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

# The test database is in memory (one per pytest-xdist worker process). pytest-django recognises
# an in-memory SQLite database by Django's engine name or by this test name; Salus's backend (its
# write lock is off for in-memory databases, its audit chaining at commit is kept) needs the name.
if DATABASES["default"]["ENGINE"] == "salus.core.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405
