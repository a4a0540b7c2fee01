"""Settings for the test suite: production settings (DEBUG off) with the few changes tests
need. The database still comes from DATABASE_URL, so the same suite runs on SQLite and on
PostgreSQL (make test sets DATABASE_URL from TEST_DATABASE_URL for the second run)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from config.settings import *  # noqa: E402,F403

# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The suite signs managers in with force_login and no second factor; the tests of two-factor
# authentication turn it on themselves (override_settings).
CASEWORK_TWO_FACTOR_REQUIRED = False
# Hashing with argon2 on every test login is slow and proves nothing about behaviour.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Under var/ (ignored by git) rather than a new temporary folder per run.
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = VAR_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# SQLite tests use a file, not memory, so that concurrent tests (threads racing to authorise
# a closure) meet the real WAL, IMMEDIATE-transaction and busy-timeout behaviour.
if USING_SQLITE:  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get(
            "TEST_SQLITE_FILE",
            str(VAR_DIR / f"test-{os.getpid()}.sqlite3"),  # noqa: F405
        )
    }
# Every compiled read (casework.core.compiled) is checked against what the ORM writes afresh.
CASEWORK_CHECK_COMPILED_READS = True
