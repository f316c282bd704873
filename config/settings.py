"""Settings for Family-Contact Review; every value comes from the environment."""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A demo run (`make run`) keeps its generated secrets in an ignored file beside manage.py.
DEMO_ENV_FILE = BASE_DIR / ".env.demo"
# Only the SQLite demo reads it, so a test or production run in the same checkout never picks up demo values.
if DEMO_ENV_FILE.exists() and not env.str("DATABASE_URL", default=""):
    environ.Env.read_env(str(DEMO_ENV_FILE), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
DEMO_SKIP_MFA = DEBUG and env.bool("DEMO_SKIP_MFA", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-debug-only-key-set-SECRET_KEY-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "access.apps.AccessConfig",
    "collections_app.apps.CollectionsAppConfig",
    "review.apps.ReviewConfig",
    "audit.apps.AuditConfig",
    "demo.apps.DemoConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.serving.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "access.security.SessionTimeoutMiddleware",
    "access.security.MfaRequiredMiddleware",
    "access.security.AdminStaffOnlyMiddleware",
    "config.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes turns a locked-out login attempt into the lockout page; it must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "access.context_processors.roles",
            ],
        },
    },
]

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The role that owns the schema: `migrate` and `audit_partitions` connect as it (audit/owner.py); the
    # app's own role owns no table (docs/operations.md). Unset or equal, the app's URL is the owner's too.
    if env.str("DATABASE_OWNER_URL", default="") not in ("", env.str("DATABASE_URL")):
        DATABASES["owner"] = {**env.db("DATABASE_OWNER_URL"), "TEST": {"MIRROR": "default"}}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
        }
    }
# Parallel test runs (one per engineer or CI job) each need their own test database.
if env.str("TEST_DB_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DB_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# An approved `reset_password` access change e-mails the user a single-use link (access/password_reset.py):
# valid for 24 hours, and spent once the password is set (the token is bound to the password hash).
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60
# Where users reach the site, for links in e-mails; `make run` sets it to the port it serves.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587; the demo prints e-mails on the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Family-Contact Review <no-reply@localhost>")

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Security: login protection, MFA, sessions, headers (docs/security.md) ---
# Five failures for one username within 15 minutes lock that username for 15 minutes, whatever the IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Reset once sign-in is complete, after the second factor when one is needed (access.views._finish):
# a correct password alone must not wipe the count of wrong one-time codes.
AXES_RESET_ON_SUCCESS = False
# Attempts during a lockout do not extend it: the lock lasts 15 minutes from the fifth failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "access.views.lockout_response"
# The audit log records logins; axes keeps only its failure counters, and logs no usernames or IPs.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Axes' admin pages would show raw attempted usernames (a password typed in the wrong field, too) and IPs,
# unaudited; its rows are only counters, expired after the cool-off. Unlock with `axes_reset_username`.
AXES_ENABLE_ADMIN = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# axes.W006 warns that a lock without the IP can be dodged by rotating user agents or cookies; ours is
# keyed on the username alone and sums failures across every IP and agent, so rotating them changes
# nothing (tests/access/test_login_lockout.py proves it).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# TOTP for risk approvers, compliance auditors and superusers (access.security.user_needs_mfa).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Family-Contact Review")
MFA_RECOVERY_CODE_COUNT = 10

# 30 minutes idle, 12 hours absolute (access.security.SessionTimeoutMiddleware).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 30 * 60
SESSION_IDLE_TIMEOUT = SESSION_COOKIE_AGE
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Secure cookies, HSTS and the HTTPS redirect are on whenever DEBUG is off; each can be overridden.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The health probes answer over plain HTTP so a load balancer can reach them inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be '<META header>,<value>'.")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
# No inline script or style anywhere: every page loads its code and styles from our own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# A request body above 1 MB (forms, webhooks) is refused with a 400 before a view sees it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Whitenoise serves hashed, compressed files from STATIC_ROOT (`collectstatic` at deploy time).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "config.serving.StaticFilesStorage"
        )
    },
}

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# In-process mode (no Redis): tasks run eagerly and the periodic jobs on a scheduler thread.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Seal new audit events into the chain and write a signed checkpoint.
    "audit-seal": {"task": "audit.tasks.audit_seal", "schedule": 5.0},
    # Nightly, only what was sealed since the last verified checkpoint (and that the log only grew since).
    "audit-verify": {
        "task": "audit.tasks.audit_verify",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {"incremental": True},
    },
    # Weekly, rebuild every entry from its columns too, not only rows written since their seal.
    "audit-verify-full": {
        "task": "audit.tasks.audit_verify",
        "schedule": crontab(hour=4, minute=30, day_of_week="sun"),
        "kwargs": {"full": True},
    },
    # Daily: the audit log's partitions of this month and the next two exist (the owner makes them).
    "audit-partitions-check": {"task": "audit.tasks.audit_partitions_check", "schedule": crontab(hour=6, minute=0)},
    # The outbox sweep releases waiting messages and recovers any send a crash interrupted.
    "outbox-sweep": {"task": "collections_app.sweep_outbox", "schedule": 10.0},
    # Instalments paid and plans kept or broken are settled before the day's ladder reads the plans.
    "settle-repayment-plans": {"task": "collections_app.settle_repayment_plans", "schedule": crontab(hour=7, minute=0)},
    "run-escalation": {"task": "collections_app.run_escalation", "schedule": crontab(hour=7, minute=30)},
    # Yesterday's snapshots and figures for the team lead's dashboard, once the day is over.
    "team-snapshot": {"task": "collections_app.take_team_snapshot", "schedule": crontab(hour=0, minute=30)},
    "expire-family-contact-requests": {"task": "review.expire_family_contact_requests", "schedule": 300.0},
    # Daily: erase the personal data of accounts closed longer than their profile's retention period.
    "retention-run": {"task": "collections_app.retention_run", "schedule": crontab(hour=2, minute=30)},
    # Corrections of core data whose hand-over to the core lending system failed after commit are tried again.
    "forward-core-corrections": {"task": "collections_app.forward_core_corrections", "schedule": 600.0},
    # Approved portfolio switches move when their effective time comes (a switch already due moves at approval).
    "apply-policy-switches": {"task": "review.apply_policy_switches", "schedule": 60.0},
}

MESSAGE_GATEWAY = env.str("MESSAGE_GATEWAY", default="console")
GATEWAY_WEBHOOK_SECRET = env.str("GATEWAY_WEBHOOK_SECRET", default="")
# Where corrections of core data go (collections_app/privacy/core_lending.py): `console` or `file:DIR`.
CORE_LENDING_CORRECTIONS = env.str("CORE_LENDING_CORRECTIONS", default="console")
# Checks run on each message of their audience just before it is sent, and told of its status changes
# (collections_app/messaging/gates.py). Code, not configuration: review guards family messages this way.
MESSAGE_SEND_GATES = ["review.gates.FamilyContactGate"]
# Keys the HMAC an erased phone number survives as (collections_app/messaging/opt_outs.py); SECRET_KEY when unset.
ERASURE_HMAC_KEY = env.str("ERASURE_HMAC_KEY", default="")
# Where the admin's policy edits go: review files them as proposals a second person approves
# (collections_app/policy_changes.py). Code, not configuration, as the gates above.
POLICY_CHANGE_FILING = {
    "change": "review.policy_proposals.policy_change_file",
    "switch": "review.policy_proposals.policy_switch_file",
}
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_PUBLIC_KEY = env.str("AUDIT_PUBLIC_KEY", default="")
AUDIT_CHECKPOINT_DIR = env.str("AUDIT_CHECKPOINT_DIR", default=str(BASE_DIR / "var" / "checkpoints"))
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-pass-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# What other apps add to the officer's caseload and account page (collections_app/panels.py): named here, as
# the authentication backends are, so that collections_app never imports review.
ACCOUNT_PAGE_PANELS = ["review.panels.FamilyContactPanel"]
# Other apps' figures on the team lead's dashboard, counted by the nightly snapshot (collections_app/team/activity.py).
TEAM_ACTIVITY_PROVIDERS = ["review.team_activity.FamilyContactActivity"]
# Who applies an approved portfolio access change (access/portfolio_grants.py): review owns the approver's portfolio
# rows, and access never imports review.
ACCESS_PORTFOLIO_GRANTS = "review.access_grants.ApproverPortfolioGrants"
# Other apps' free text that may name a person, erased with them (collections_app/services/erasure.py).
ERASABLE_TEXT_PROVIDERS = [
    "review.erasure.family_contact_request_text",
    "collections_app.privacy.erasure.privacy_request_text",
]
