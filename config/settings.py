"""Casework settings, read from the environment (twelve-factor).

Every setting that differs between a laptop and a council's server comes from an environment
variable; nothing secret is in the repository. `DEBUG=true` is the development default only when
`CASEWORK_ENV` is unset or `development`; production must set `SECRET_KEY` and `ALLOWED_HOSTS`.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)

if DEBUG:
    # A development-only key: never valid in production because DEBUG is off there and the
    # branch below insists on a real SECRET_KEY.
    SECRET_KEY: str = env.str("SECRET_KEY", default="casework-development-only-not-secret")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as missing:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string in the environment, "
            "or set DEBUG=true for local development."
        ) from missing

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Listed so the API's browsable docs use Ninja's own copy of Swagger UI, not a CDN that a
    # council's network may block (or that could change under us).
    "ninja",
    "casework.core",
    "casework.accounts",
    "casework.organisation",
    "casework.people",
    "casework.cases",
    "casework.audit",
    "casework.access",
    "casework.policy",
    "casework.tasks",
    "casework.closure",
    "casework.transfers",
    "casework.frontend",
    "casework.api",
    "casework.returns",
    "casework.oversight",
    "casework.retention",
    "casework.privacy",
    "casework.legacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The Content Security Policy must reach every response, including those a middleware
    # answers by itself (the sign-in redirect, a replayed API answer, the lockout page), so it
    # runs just inside WhiteNoise (static files need none), not last.
    "casework.frontend.security.ContentSecurityPolicyMiddleware",
    # Around everything that asks who may see what (the views, the API, the access log).
    "casework.access.middleware.NeedToKnowPerRequestMiddleware",
    "casework.policy.middleware.PackFilesPerRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casework.accounts.middleware.SessionTimeoutMiddleware",
    "casework.api.idempotency.IdempotencyKeyMiddleware",
    "casework.accounts.middleware.LoginRequiredEverywhereMiddleware",
    "casework.accounts.middleware.TwoFactorMiddleware",
    "casework.access.middleware.AccessLogMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so the lockout page it substitutes still gets the headers the others add.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.frontend.context_processors.service",
                "casework.frontend.context_processors.restored_work",
                "casework.frontend.context_processors.navigation",
                "casework.tasks.context_processors.notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# SQLite is the zero-setup default. It waits for a concurrent writer instead of failing:
# WAL lets readers carry on during a write, IMMEDIATE takes the write lock at BEGIN (so two
# transactions never deadlock upgrading a read lock), and the busy timeout makes the second
# writer wait up to five seconds (writers also queue in turn first: casework/core/sqlite).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 5,
    "init_command": (
        "PRAGMA journal_mode=WAL;PRAGMA busy_timeout=5000;"
        "PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
    ),
}

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'casework.sqlite3'}"),
}
# Settings that extend these (tests, bench) ask "is this SQLite?" of this flag, not of the
# engine's name, which Casework replaces below.
USING_SQLITE = DATABASES["default"]["ENGINE"] in (
    "django.db.backends.sqlite3",
    "casework.core.sqlite",
)
if USING_SQLITE:
    # Django's backend, with writers taking turns fairly (see casework/core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "casework.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    test_sqlite_file = env.str("TEST_SQLITE_FILE", default="")
    if test_sqlite_file:
        # Tests normally use an in-memory database; pointing them at a file exercises WAL.
        DATABASES["default"]["TEST"] = {"NAME": test_sqlite_file}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["ATOMIC_REQUESTS"] = False
    # PostgreSQL's JIT compiles the plan of a query it expects to be expensive; the need-to-know
    # subqueries of person search fool its estimate, and compiling took seconds per search while
    # running took a fraction of one (issue 10, docs/performance.md). Short OLTP queries gain
    # nothing from JIT, so it is off for Casework's connections unless DATABASE_URL says otherwise.
    # Prepared statements (below) may get PostgreSQL's generic plan after five runs; the
    # reads whose values decide their plan (keyset pages, search) are sent unprepared
    # instead: casework.core.planning (decision 0019). If some other read turns out to
    # need its own plan, DATABASE_GENERIC_PLANS=false plans every statement for its values
    # (planning was most of PostgreSQL's work on a closure proposal) until that read is sent
    # unprepared too.
    options = "-c jit=off"
    if not env.bool("DATABASE_GENERIC_PLANS", default=True):
        options += " -c plan_cache_mode=force_custom_plan"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", options)
    # Statements sent with their parameters apart (server-side binding) and, from the fifth
    # time a connection sends the same one, prepared: PostgreSQL then parses it once per
    # connection instead of every time (and plans it for each run's values, above). Turn it off
    # (DATABASE_PREPARED_STATEMENTS=false) behind a pooler in transaction mode that
    # cannot carry prepared statements (PgBouncer before 1.21, or without
    # max_prepared_statements): see docs/operations.md.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my-cases"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media-not-served-directly/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DOCUMENT_MAX_BYTES: int = env.int("DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="casework@localhost")
EMAIL_HOST: str = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT: int = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER: str = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD: str = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS: bool = env.bool("EMAIL_USE_TLS", default=False)
# Emails for a person's action are sent by the web process after commit: bound the wait.
EMAIL_TIMEOUT: int = env.int("EMAIL_TIMEOUT", default=10)
# The site's own address, for links in emails, e.g. https://casework.example-council.gov.uk
CASEWORK_BASE_URL: str = env.str("CASEWORK_BASE_URL", default="")
# Working days before a task's due date that its people are reminded (0: no reminders).
CASEWORK_REMINDER_WORKING_DAYS: int = env.int("CASEWORK_REMINDER_WORKING_DAYS", default=2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint and fontTools narrate every PDF at INFO; only their problems matter.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Extra folders of policy packs (a council's own), beside the built-in ones.
CASEWORK_PACK_DIRS: list[str] = env.list("CASEWORK_PACK_DIRS", default=[])

# Shown in the header: a council names its own service; this is not GOV.UK.
CASEWORK_SERVICE_NAME: str = env.str("CASEWORK_SERVICE_NAME", default="Casework")

# --- Sign-in hardening (issue 9 item 4) ----------------------------------------------------------
# See docs/security.md, "Signing in". Failed sign-ins are counted by django-axes per username and
# address; its backend comes first so that a locked-out user is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
CASEWORK_SIGN_IN_ATTEMPTS: int = env.int("CASEWORK_SIGN_IN_ATTEMPTS", default=5)
CASEWORK_SIGN_IN_COOL_OFF_MINUTES: int = env.int("CASEWORK_SIGN_IN_COOL_OFF_MINUTES", default=30)
# Reverse proxies in front of Casework that append to X-Forwarded-For (0: none, use the peer's
# address). Without this, behind a proxy every sign-in comes from the proxy's address.
CASEWORK_TRUSTED_PROXIES: int = env.int("CASEWORK_TRUSTED_PROXIES", default=0)
AXES_FAILURE_LIMIT = CASEWORK_SIGN_IN_ATTEMPTS
AXES_COOLOFF_TIME = CASEWORK_SIGN_IN_COOL_OFF_MINUTES / 60  # a float is read as hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries while locked do not restart the cool-off, so "try again after 3:05pm" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "casework.accounts.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "casework.accounts.lockout.client_ip"
AXES_VERBOSE = False
# Axes narrates every sign-in at INFO; failures and lockouts (WARNING) are what matter.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # type: ignore[index]

# A code from an authenticator app (django-otp TOTP) after the password, for anyone who sets one
# up; required for managers and administrators when this is on. It is off by default with
# DEBUG on only so that the local demo's printed sign-ins work without a phone; a council's
# server (DEBUG off) requires it unless it sets CASEWORK_TWO_FACTOR_REQUIRED=false.
CASEWORK_TWO_FACTOR_REQUIRED: bool = env.bool("CASEWORK_TWO_FACTOR_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = CASEWORK_SERVICE_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Signed out after this long without activity, and this long after signing in whatever the
# activity. The cookie lasts as long as the absolute limit, and no longer.
CASEWORK_IDLE_TIMEOUT_MINUTES: int = env.int("CASEWORK_IDLE_TIMEOUT_MINUTES", default=30)
CASEWORK_SESSION_MAX_HOURS: int = env.int("CASEWORK_SESSION_MAX_HOURS", default=10)
SESSION_COOKIE_AGE = CASEWORK_SESSION_MAX_HOURS * 60 * 60
# --- end of sign-in hardening ---------------------------------------------------------------------

# --- Web hardening (issue 9 item 5) --------------------------------------------------------------
# The Content Security Policy and the headers stored files are sent with are set in
# casework/frontend/security.py (ContentSecurityPolicyMiddleware, file_response); see
# docs/security.md, "Web protections". Where browsers should report violations, if anywhere:
CASEWORK_CSP_REPORT_URI: str = env.str("CASEWORK_CSP_REPORT_URI", default="")
# Stored files (documents, exports) are readable by the server's own user only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# HSTS preload (check security.W021) is the decision of whoever runs the council's registrable
# domain, not of one service on it: a preloaded domain forces HTTPS on every subdomain, in every
# browser, for months after it asks to leave. Casework sends HSTS for a year with
# includeSubDomains; set SECURE_HSTS_PRELOAD=true once the domain's owner has chosen to preload,
# which also turns the check back on. Until then it is silenced for that reason alone.
if not DEBUG and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS: list[str] = ["security.W021"]
# --- end of web hardening -------------------------------------------------------------------------

# --- Records retention (issue 9 item 6) ----------------------------------------------------------
# --- end of records retention ---------------------------------------------------------------------
