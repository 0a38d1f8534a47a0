"""Django settings: one file, read from the environment, safe embedded defaults for development."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "False") -> bool:
    return os.getenv(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.getenv(name, str(default)))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


# Where the embedded database, Huey's queue and uploaded media live.
DATA_DIR = Path(os.getenv("SCHOOLGATE_DATA_DIR", BASE_DIR / "var"))
# Keys live apart from the data (a sibling directory, 0700), so one copy of DATA_DIR does not carry both
# the database and the keys that decrypt its secrets and sign its audit log.
KEY_DIR = Path(os.getenv("SCHOOLGATE_KEY_DIR", DATA_DIR.parent / f"{DATA_DIR.name}-keys"))

DEBUG = envbool("DEBUG", "True" if not os.getenv("SECRET_KEY") else "False")
SECRET_KEY = os.getenv("SECRET_KEY") or "dev-only-insecure-key-set-SECRET_KEY-in-production"
if not DEBUG and SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.getenv("SITE_NAME", "Schoolgate")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "huey.contrib.djhuey",
    "schoolgate.accounts",
    "schoolgate.audit",
    "schoolgate.schools",
    "schoolgate.pupils",
    "schoolgate.policy",
    "schoolgate.official_accounts",
    "schoolgate.posts",
    "schoolgate.media",
    "schoolgate.news",
    "schoolgate.screening",
    "schoolgate.notifications",
    "schoolgate.concerns",
    "schoolgate.training",
    "schoolgate.declarations",
    "schoolgate.inbox",
    "schoolgate.listening",
    "schoolgate.reporting",
    "schoolgate.home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "schoolgate.requestmemo.RequestMemoMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "schoolgate.accounts.middleware.RequireMfaMiddleware",
    "schoolgate.home.middleware.FriendlyNotFoundMiddleware",
]

ROOT_URLCONF = "schoolgate.urls"
WSGI_APPLICATION = "schoolgate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "schoolgate" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "schoolgate.home.context_processors.navigation",
            ],
        },
    },
]

# SQLite in WAL mode by default; PostgreSQL (or any dj-database-url URL) through DATABASE_URL.
DATA_DIR.mkdir(parents=True, exist_ok=True)
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so read-then-write transactions (the audit chain) never fail
    # with SQLITE_BUSY halfway through; the timeout makes a second writer wait for the lock, not fail.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
if os.getenv("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "schoolgate.sqlite3"}}
# Every SQLite database gets the safeguards, however it was configured: without them two people saving at once
# get "database is locked".
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _database["OPTIONS"] = {**SQLITE_OPTIONS, **_database.get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    # Django's default attributes are username/first_name/last_name/email; this model has a full name instead.
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("full_name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email + password, no self sign-up (schools add their own people), TOTP MFA.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "schoolgate.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Failed logins and wrong second-factor codes (allauth counts both as "login_failed") are throttled per
# client address and per account (the email, or the person for codes), in the shared cache below, so the
# counts hold across every web worker and restart. Behind a proxy set TRUSTED_PROXY_COUNT (or
# TRUSTED_CLIENT_IP_HEADER), or every client shares the proxy's address and one person can lock out all.
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key"}
ALLAUTH_TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.getenv("TRUSTED_CLIENT_IP_HEADER") or None
MFA_ADAPTER = "schoolgate.accounts.adapters.MfaAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Secrets at rest (TOTP seeds now, network credentials later) are encrypted with these keys.
# SCHOOLGATE_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first; otherwise a key file.
ENCRYPTION_KEYS = envlist("SCHOOLGATE_ENCRYPTION_KEYS")
# Installs from before KEY_DIR keep using the key file they already have in DATA_DIR (README: Keys).
_OLD_KEY_FILE, _KEY_FILE = DATA_DIR / "encryption.keys", KEY_DIR / "encryption.keys"
ENCRYPTION_KEY_FILE = Path(
    os.getenv("SCHOOLGATE_ENCRYPTION_KEY_FILE")
    or (_OLD_KEY_FILE if _OLD_KEY_FILE.exists() and not _KEY_FILE.exists() else _KEY_FILE)
)
# The audit log is an HMAC chain under these keys (newest first; old ones stay to verify old entries), and
# its head is anchored in a signed checkpoint file outside the database (schoolgate/audit/checkpoints.py).
AUDIT_KEYS = envlist("SCHOOLGATE_AUDIT_KEYS")
AUDIT_KEY_FILE = Path(os.getenv("SCHOOLGATE_AUDIT_KEY_FILE", KEY_DIR / "audit.keys"))
AUDIT_CHECKPOINT_FILE = Path(os.getenv("SCHOOLGATE_AUDIT_CHECKPOINT_FILE", KEY_DIR / "audit-checkpoints.jsonl"))

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.getenv("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
# One date format ("2 December 2026") and one date-time format ("2 December 2026, 14:05") everywhere.
FORMAT_MODULE_PATH = ["schoolgate.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "schoolgate" / "static"]
# Face detector for uploaded photos: empty picks the first that runs here (libfacedetection on x86-64 with AVX2,
# else BlazeFace); "blazeface" or "libfacedetection" forces one (schoolgate/media/face_detectors.py).
FACE_DETECTOR = os.getenv("FACE_DETECTOR", "")

# Uploaded photos: local disk under DATA_DIR by default, or an S3-compatible bucket when MEDIA_S3_BUCKET is
# set. Neither is ever served directly (no static or media URL points at them, and S3 objects are private):
# files go out only through the media app's permission-checked view, so deleting one makes it unreachable.
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "media/"
if os.getenv("MEDIA_S3_BUCKET"):
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_S3_BUCKET"],
            "endpoint_url": os.getenv("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.getenv("MEDIA_S3_REGION") or None,
            "access_key": os.getenv("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.getenv("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Apps registered with each network for the OAuth connect flow (Mastodon apps register per server).
NETWORK_APPS = {
    network: {
        "client_id": os.getenv(f"SCHOOLGATE_{network.upper()}_CLIENT_ID", ""),
        "client_secret": os.getenv(f"SCHOOLGATE_{network.upper()}_CLIENT_SECRET", ""),
    }
    for network in ("facebook", "instagram", "x")
}
# Meta's webhooks (Facebook Page feed, Instagram comments and mentions) arrive at /hooks/meta/, signed with the
# Facebook or Instagram app secret above; this is the verify token typed into the app's webhook settings (unset:
# Meta's verification is refused). Bodies over the cap are refused unread.
META_WEBHOOK_VERIFY_TOKEN = os.getenv("SCHOOLGATE_META_WEBHOOK_VERIFY_TOKEN", "")
META_WEBHOOK_MAX_BYTES = envint("SCHOOLGATE_META_WEBHOOK_MAX_BYTES", 512 * 1024)

# Server addresses people type (a Bluesky server, a Mastodon instance) are called from inside this host's
# network, so private, loopback, link-local and reserved addresses are refused (connectors/addresses.py)
# unless listed here: comma-separated host names, addresses or networks (e.g. a trust's own server,
# "social.trust.internal,10.20.0.0/16"). In development the machine itself is allowed, for local test servers.
OUTBOUND_ALLOWED_PRIVATE_HOSTS = envlist(
    "SCHOOLGATE_OUTBOUND_ALLOWED_PRIVATE_HOSTS", "localhost,127.0.0.1,::1" if DEBUG else ""
)

# Mail: SMTP when EMAIL_HOST is set, otherwise printed to the console (development).
if os.getenv("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": envint("EMAIL_PORT", 25),
                "username": os.getenv("EMAIL_HOST_USER", ""),
                "password": os.getenv("EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("EMAIL_USE_TLS"),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Schoolgate <schoolgate@localhost>")

# The cache holds the login throttles and used authenticator codes, so it is shared by every web worker and
# survives restarts: Redis when REDIS_URL is set, otherwise a table in the database (`manage.py
# createcachetable`, which bin/up runs). Tests use a per-process cache of their own (conftest.py).
if os.getenv("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "schoolgate",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "schoolgate_cache"}}

# Huey: SQLite storage beside the database by default, Redis when REDIS_URL is set.
HUEY_IMMEDIATE = envbool("HUEY_IMMEDIATE")
if os.getenv("REDIS_URL"):
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.getenv("HUEY_NAME", "schoolgate"),
        "url": os.environ["REDIS_URL"],
        "immediate": HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "schoolgate",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }
HUEY["consumer"] = {"workers": envint("HUEY_WORKERS", 2), "worker_type": "thread", "periodic": True}

# The worker writes a heartbeat every minute; /healthz calls it stale after this many seconds.
WORKER_HEARTBEAT_STALE_SECONDS = envint("WORKER_HEARTBEAT_STALE_SECONDS", 180)

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production: plain HTTP is redirected (except /healthz, so a load balancer's plain-HTTP check
# works) and browsers are told to use nothing else for a year (HSTS). Turn either off with the variable, e.g.
# SECURE_SSL_REDIRECT=False when running on plain HTTP on a private machine.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "True")
# Content-Security-Policy, in development and tests too (so a browser test sees any violation): scripts and
# styles only from our own static files or carrying the page's nonce; no plugins, frames or foreign origins.
# data: images are the authenticator QR code on the second-factor setup page.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# Every handler redacts anything token-shaped (schoolgate/logredact.py), the request lines of the
# development server included (family and digest links carry tokens in their paths); gunicorn's access
# log is redacted by the logger class bin/up gives it. HTTP client libraries log every URL they call at
# INFO or DEBUG, so they are kept at WARNING.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "schoolgate.logredact.RedactSecrets"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        # The Huey consumer adds its own handler; without this every job line is printed twice.
        "huey": {"handlers": [], "propagate": False},
        # Django's default handlers (without the filter) are replaced: its records go to the root's console.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        **{
            name: {"level": "WARNING"}
            for name in ("httpx", "httpcore", "urllib3", "requests_oauthlib", "mastodon", "atproto", "atproto_client")
        },
    },
}
