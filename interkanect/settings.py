"""InterKanect settings: one module, read from the environment, safe development defaults.

Production is the same code with other variables (DJANGO_DEBUG=0 and friends); see README.md.
"""

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (50+ random characters) when DJANGO_DEBUG=0.")
    # Development only: a random key kept in an untracked file, so sessions survive a restart and
    # every local process (server, tests, the browser tests' server) signs with the same one.
    _dev_key_file = BASE_DIR / ".dev-secret-key"
    if not _dev_key_file.exists():
        # Written whole, then linked into place: a process starting at the same moment never reads half a key.
        _draft = _dev_key_file.with_name(f".dev-secret-key.{os.getpid()}")
        _draft.write_text(secrets.token_urlsafe(50))
        try:
            os.link(_draft, _dev_key_file)
        except FileExistsError:
            pass
        finally:
            _draft.unlink()
    SECRET_KEY = _dev_key_file.read_text().strip()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and WebSockets (ASGI) in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.paypal",
    "accounts",
    "sessions_app",
    "payouts",
    "signaling",
    "interkanect",  # the project level: dashboards, closing an account, demo data, deploy checks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "interkanect.urls"
ASGI_APPLICATION = "interkanect.asgi.application"

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
            ],
        },
    },
]

# --- Database: SQLite in the project folder unless DATABASE_URL says otherwise. ---
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # The browser tests run a server process beside the test process on one file:
        # WAL and IMMEDIATE transactions keep them from tripping over each other's locks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so a live server process can see the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # Each database_sync_to_async call (two per admitted socket) and each request used to open and close
    # a PostgreSQL session (a backend started, its catalog read). Persistent connections do not fit ASGI:
    # they are per thread and Django runs each request in a thread of its own. psycopg's pool does: a
    # connection goes back to the pool instead of closing, and is checked (one round trip) before reuse,
    # so a restarted database costs errors on no request. Per process, at most DATABASE_POOL_MAX_SIZE.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool replaces persistent connections (Django requires 0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # with a pool: psycopg's check before each reuse
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "timeout": env_int("DATABASE_POOL_TIMEOUT_SECONDS", 10),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache across processes; in-memory when REDIS_URL is unset. ---
REDIS_URL = os.environ.get("REDIS_URL", "")
# channels-redis waits for a message with a blocking BZPOPMIN of 5 s; redis-py 8 gives up on a socket read
# after 5 s by default, which killed every idle room socket. The read timeout must stay well above that wait.
REDIS_SOCKET_TIMEOUT_SECONDS = float(os.environ.get("REDIS_SOCKET_TIMEOUT_SECONDS", "15"))
REDIS_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("REDIS_CONNECT_TIMEOUT_SECONDS", "3"))
# Every consumer of one daphne process shares one Redis inbox: this many waiting messages per process absorb
# many rooms setting up calls at once (trickled ICE comes in bursts of dozens per member). The consumer treats
# a full inbox as "that member is gone", never as a crash.
CHANNELS_PROCESS_CAPACITY = env_int("CHANNELS_PROCESS_CAPACITY", 5000)
# A signaling message older than this is useless (the browsers have moved on), and a dead process's inbox
# empties itself this soon.
CHANNELS_EXPIRY_SECONDS = env_int("CHANNELS_EXPIRY_SECONDS", 20)
if REDIS_CONNECT_TIMEOUT_SECONDS <= 0 or REDIS_SOCKET_TIMEOUT_SECONDS <= 5:
    raise ImproperlyConfigured("REDIS_SOCKET_TIMEOUT_SECONDS must exceed channels-redis's 5 s blocking wait.")
if REDIS_URL:
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff

    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's RedisChannelLayer, except that messages between consumers of one process
            # (both members of a room, routed to one process by nginx) stay in memory.
            "BACKEND": "interkanect.channel_layers.LocalFirstRedisChannelLayer",
            "CONFIG": {
                # channels-redis hands everything but the address to redis-py's ConnectionPool.from_url.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                        "socket_keepalive": True,
                        # A pooled connection idle this long is checked before use (Redis restarted meanwhile),
                        # and a dropped one is retried for a few seconds, so a Redis restart is not a dropped call.
                        "health_check_interval": 30,
                        "retry": Retry(ExponentialWithJitterBackoff(cap=1, base=0.05), 6),
                    }
                ],
                "prefix": os.environ.get("CHANNELS_PREFIX", "interkanect"),
                "expiry": CHANNELS_EXPIRY_SECONDS,
                # The app sends only to process-local channels ("specific.<process>!<consumer>"): their
                # capacity is the process's inbox. Any other channel keeps the library's default.
                "capacity": 100,
                "channel_capacity": {"specific.*": CHANNELS_PROCESS_CAPACITY},
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "interkanect.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "interkanect"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "interkanect.channel_layers.SweepingInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth and accounts (django-allauth). ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Tests name a fast hasher first (DJANGO_PASSWORD_HASHERS); every process still knows the default ones.
PASSWORD_HASHERS = env_list("DJANGO_PASSWORD_HASHERS", []) + [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.signup_form.SignupExtraForm"
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # activation is the confirmation of the e-mail address
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # the confirm page shows the username one last time
# Confirming in the browser that signed up logs in and resumes where they were (a join link).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_USERNAME_MIN_LENGTH = 3
# allauth's rate limits stay at their defaults; they are kept in the cache above, which is
# Redis (shared by every process) whenever REDIS_URL is set. Their per-address limits see the client's
# address behind a proxy only with DJANGO_TRUSTED_PROXY_COUNT (below); failed logins per account are
# counted per browser once the account logged in there (accounts.adapters, README "Login limits").
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[InterKanect] "
# PayPal links a payout account, never logs in; the project-level adapter adds the shared-account review.
SOCIALACCOUNT_ADAPTER = "interkanect.paypal_link.PayPalLinkAdapter"

# --- E-mail: console in development, SMTP from the environment in production. ---
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "tmp" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "InterKanect <no-reply@interkanect.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: WhiteNoise serves them under daphne in production too, from its index, on the event loop
# before Django (interkanect/static_files.py); its middleware serves what does not come through
# interkanect.asgi (the test client). ---
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security. Production (DEBUG off) passes `manage.py check --deploy` with no warning. ---
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy every request comes from the proxy's address, so allauth's per-address limits (failed
# logins, sign-ups, password resets) would count everyone as one client and one attacker could lock
# every login. allauth takes the client's address from X-Forwarded-For, counting this many proxies
# (ours) from the right, or from a header the proxy sets (X-Real-IP) — only when told: either header
# is the client's own word when no proxy of ours overwrites it (deploy check interkanect.W004).
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
TRUSTED_CLIENT_IP_HEADER = os.environ.get("DJANGO_TRUSTED_CLIENT_IP_HEADER", "").strip()
if (TRUSTED_PROXY_COUNT or TRUSTED_CLIENT_IP_HEADER) and not BEHIND_TLS_PROXY:
    raise ImproperlyConfigured(
        "DJANGO_TRUSTED_PROXY_COUNT and DJANGO_TRUSTED_CLIENT_IP_HEADER need DJANGO_BEHIND_TLS_PROXY=1: "
        "without a proxy of ours in front, the client writes those headers itself."
    )
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT is the number of proxies in front of daphne (1 or more).")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER or None

# Pages load nothing from other sites: only our own origin (and, through 'self', our own
# WebSocket). No inline script anywhere. Apps add the PayPal pages to form-action when they
# send the browser there (settings.PAYPAL_WEB_BASE_URL).
CSP_FORM_ACTION_EXTRA = env_list("CSP_FORM_ACTION_EXTRA", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:", "mediastream:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *CSP_FORM_ACTION_EXTRA],
    }
}

# --- Logging: nothing on the signaling path logs payloads or addresses (see DESIGN.md). ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # daphne's runserver logs each request with the client's IP address and port.
        "django.channels.server": {"level": "WARNING"},
    },
}

# --- Product settings ---
SITE_NAME = "InterKanect"
CURRENCY = os.environ.get("CURRENCY", "USD")
# The platform's share of a paid consultation, in percent (decimals allowed, e.g. 12.5), taken when the
# SME's earning is credited: fee = price × percent / 100 rounded down to the cent (a fraction of a cent
# goes to the SME), earning = price − fee. PayPal's own fee on the capture is the platform's cost.
try:
    PLATFORM_FEE_PERCENT = Decimal(os.environ.get("PLATFORM_FEE_PERCENT", "0"))
except InvalidOperation:
    raise ImproperlyConfigured("PLATFORM_FEE_PERCENT is a number from 0 to 100.") from None
if not PLATFORM_FEE_PERCENT.is_finite() or not 0 <= PLATFORM_FEE_PERCENT <= 100:
    raise ImproperlyConfigured("PLATFORM_FEE_PERCENT is a number from 0 to 100.")

# Consultations: an open consultation never held within this many days expires; a live one whose room
# is empty completes this long after its agreed end.
CONSULTATION_EXPIRE_DAYS = env_int("CONSULTATION_EXPIRE_DAYS", 30)
CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES = env_int("CONSULTATION_AUTOCOMPLETE_GRACE_MINUTES", 30)

# Payout calendar: holidays of this country (python-holidays code, observed days included) move a payout
# to the day before.
PAYOUT_HOLIDAYS_COUNTRY = os.environ.get("PAYOUT_HOLIDAYS_COUNTRY", "US")
PAYOUT_HOLIDAYS_SUBDIVISION = os.environ.get("PAYOUT_HOLIDAYS_SUBDIVISION", "")
# Payout runs (payouts/runs.py): "today" for run_payouts is the date in this time zone; an SME is paid their
# whole balance when it is at least PAYOUT_MINIMUM_CENTS; an item still UNCLAIMED this many days after PayPal
# first said so is cancelled (its money comes back); batches are re-read for reversals this many days.
PAYOUT_TIME_ZONE = os.environ.get("PAYOUT_TIME_ZONE", "America/New_York")
PAYOUT_MINIMUM_CENTS = env_int("PAYOUT_MINIMUM_CENTS", 1000)
PAYOUT_UNCLAIMED_CANCEL_DAYS = env_int("PAYOUT_UNCLAIMED_CANCEL_DAYS", 25)
PAYOUT_SYNC_DAYS = env_int("PAYOUT_SYNC_DAYS", 30)
PAYOUT_BATCH_MAX_ITEMS = env_int("PAYOUT_BATCH_MAX_ITEMS", 15_000)  # PayPal's limit

# Free-session policy: over a rolling window, an SME crosses a limit with more than FREE_SESSION_MAX_COUNT
# free live sessions, or (once they held FREE_SESSION_SHARE_MIN_SESSIONS) more than FREE_SESSION_MAX_SHARE_PERCENT
# of their live sessions free. Crossing opens a review case for an admin; it never disqualifies by itself.
# The dashboard warns when FREE_SESSION_WARN_REMAINING or fewer free sessions are left before a limit.
FREE_SESSION_WINDOW_DAYS = env_int("FREE_SESSION_WINDOW_DAYS", 30)
FREE_SESSION_MAX_COUNT = env_int("FREE_SESSION_MAX_COUNT", 8)
FREE_SESSION_MAX_SHARE_PERCENT = env_int("FREE_SESSION_MAX_SHARE_PERCENT", 50)
FREE_SESSION_SHARE_MIN_SESSIONS = env_int("FREE_SESSION_SHARE_MIN_SESSIONS", 10)
FREE_SESSION_WARN_REMAINING = env_int("FREE_SESSION_WARN_REMAINING", 2)

# Consultation e-mails: links in them (sent from commands too, with no request) start with SITE_URL;
# the "about to start" e-mail goes out this many minutes before a scheduled start.
# Without SITE_URL, production links go to the first allowed host over HTTPS.
_default_site_url = "http://127.0.0.1:8000" if DEBUG or not ALLOWED_HOSTS else f"https://{ALLOWED_HOSTS[0].lstrip('.')}"
SITE_URL = os.environ.get("SITE_URL", _default_site_url).rstrip("/")
CONSULTATION_REMINDER_MINUTES = env_int("CONSULTATION_REMINDER_MINUTES", 15)

# --- PayPal (payouts/paypal/). No credentials → the project's own PayPal emulator on 127.0.0.1, which
# `scripts/dev.py run` (or `manage.py paypal_emulator`) starts; it never runs with DEBUG off. ---
PAYPAL_CLIENT_ID = os.environ.get("PAYPAL_CLIENT_ID", "")
PAYPAL_CLIENT_SECRET = os.environ.get("PAYPAL_CLIENT_SECRET", "")
PAYPAL_EMULATED = not (PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET)
PAYPAL_MODE = os.environ.get("PAYPAL_MODE", "sandbox")
if PAYPAL_MODE not in {"sandbox", "live"}:
    raise ImproperlyConfigured("PAYPAL_MODE is sandbox or live.")
PAYPAL_EMULATOR_PORT = env_int("PAYPAL_EMULATOR_PORT", 8025)
if PAYPAL_EMULATED:
    # The emulator's own development credentials (payouts.paypal.emulator accepts these).
    PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"
_PAYPAL_HOSTS = {  # (API, web pages) as paypalrestsdk and allauth's PayPal provider know them
    "live": ("https://api.paypal.com", "https://www.paypal.com"),
    "sandbox": ("https://api.sandbox.paypal.com", "https://www.sandbox.paypal.com"),
}
_PAYPAL_DEFAULT_API, _PAYPAL_DEFAULT_WEB = (
    (f"http://127.0.0.1:{PAYPAL_EMULATOR_PORT}",) * 2 if PAYPAL_EMULATED else _PAYPAL_HOSTS[PAYPAL_MODE]
)
# No trailing slash: paypalrestsdk's join_url doubles the path after one.
PAYPAL_API_BASE_URL = os.environ.get("PAYPAL_API_BASE_URL", _PAYPAL_DEFAULT_API).rstrip("/")
PAYPAL_WEB_BASE_URL = os.environ.get("PAYPAL_WEB_BASE_URL", _PAYPAL_DEFAULT_WEB).rstrip("/")
PAYPAL_TIMEOUT_SECONDS = float(os.environ.get("PAYPAL_TIMEOUT_SECONDS", "15"))
PAYPAL_RETRIES = env_int("PAYPAL_RETRIES", 2)  # after a timeout, a connection error or a 5xx
PAYPAL_RETRY_BACKOFF_SECONDS = float(os.environ.get("PAYPAL_RETRY_BACKOFF_SECONDS", "0.5"))
# "Connect PayPal" (Log in with PayPal) uses the same PayPal app unless PAYPAL_LOGIN_CLIENT_ID is set;
# PAYPAL_LOGIN=0 turns it off, and SMEs then type their PayPal e-mail address instead (unverified).
PAYPAL_LOGIN_ENABLED = env_bool("PAYPAL_LOGIN", True)
SOCIALACCOUNT_PROVIDERS = {
    "paypal": {
        # allauth's provider with our base URLs (payouts/paypal/login/), so it also works against the emulator.
        "provider_class": "payouts.paypal.login.provider.PayPalProvider",
        "SCOPE": ["openid", "email", "https://uri.paypal.com/services/paypalattributes"],
        "APPS": [
            {
                "client_id": os.environ.get("PAYPAL_LOGIN_CLIENT_ID", PAYPAL_CLIENT_ID),
                "secret": os.environ.get("PAYPAL_LOGIN_CLIENT_SECRET", PAYPAL_CLIENT_SECRET),
            }
        ]
        if PAYPAL_LOGIN_ENABLED
        else [],
    }
}
SOCIALACCOUNT_STORE_TOKENS = False  # we keep the verified e-mail and payer id, never PayPal's tokens
# The pages whose form sends the browser on to PayPal add PAYPAL_WEB_BASE_URL to their own CSP
# form-action (payouts.paypal.web.paypal_form_action); every other page keeps form-action 'self'.

# --- The call (signaling/): ICE servers, TURN REST credentials, the relay's limits. ---
# No STUN/TURN by default: on one machine or one LAN the browsers reach each other directly.
ICE_STUN_URLS = env_list("ICE_STUN_URLS", [])  # e.g. stun:turn.example.com:3478
ICE_TURN_URLS = env_list("ICE_TURN_URLS", [])  # e.g. turn:turn.example.com:3478?transport=udp
# coturn's `static-auth-secret` (use-auth-secret): the server hands out HMAC credentials that expire.
ICE_TURN_SECRET = os.environ.get("ICE_TURN_SECRET", "")
ICE_TURN_CREDENTIAL_TTL_SECONDS = env_int("ICE_TURN_CREDENTIAL_TTL_SECONDS", 4 * 3600)
# "relay" sends all media through TURN, so neither person learns the other's IP address.
ICE_TRANSPORT_POLICY = os.environ.get("ICE_TRANSPORT_POLICY", "all")
if ICE_TURN_URLS and not ICE_TURN_SECRET:
    raise ImproperlyConfigured("ICE_TURN_URLS needs ICE_TURN_SECRET (coturn's static-auth-secret).")
if ICE_TRANSPORT_POLICY not in {"all", "relay"}:
    raise ImproperlyConfigured("ICE_TRANSPORT_POLICY is 'all' or 'relay'.")
SIGNALING_MAX_FRAME_BYTES = env_int("SIGNALING_MAX_FRAME_BYTES", 64 * 1024)
# Per socket: a token bucket; trickled ICE candidates come in bursts of a few dozen.
SIGNALING_RATE_PER_SECOND = env_int("SIGNALING_RATE_PER_SECOND", 20)
SIGNALING_RATE_BURST = env_int("SIGNALING_RATE_BURST", 60)
# Bad or too-fast frames a socket may send before it is closed.
SIGNALING_MAX_STRIKES = env_int("SIGNALING_MAX_STRIKES", 10)
# How long a joining member waits for the member the database says is connected to answer before
# treating them as gone (their server process may have died).
SIGNALING_PEER_REPLY_SECONDS = float(os.environ.get("SIGNALING_PEER_REPLY_SECONDS", "3"))
# Liveness of the other member: each connection pings the other's every SIGNALING_HEARTBEAT_SECONDS, and a
# member not heard from for SIGNALING_PEER_TIMEOUT_SECONDS (its server process died) is reported gone.
SIGNALING_HEARTBEAT_SECONDS = float(os.environ.get("SIGNALING_HEARTBEAT_SECONDS", "2"))
SIGNALING_PEER_TIMEOUT_SECONDS = float(os.environ.get("SIGNALING_PEER_TIMEOUT_SECONDS", "7"))
# Each connection refreshes its presence in the database this often; housekeeping and a joining member
# ignore a presence older than SIGNALING_PRESENCE_STALE_SECONDS (left behind by a dead process).
SIGNALING_PRESENCE_REFRESH_SECONDS = float(os.environ.get("SIGNALING_PRESENCE_REFRESH_SECONDS", "60"))
SIGNALING_PRESENCE_STALE_SECONDS = env_int("SIGNALING_PRESENCE_STALE_SECONDS", 180)
if SIGNALING_PRESENCE_STALE_SECONDS < 2 * SIGNALING_PRESENCE_REFRESH_SECONDS:
    raise ImproperlyConfigured("SIGNALING_PRESENCE_STALE_SECONDS must be at least twice the refresh interval.")
# Joins (WebSocket connections to a room) per window: per member, and per client address. A page reconnects
# with backoff, far below these; a loop or a script hammering the room is closed with a reason instead.
SIGNALING_JOIN_WINDOW_SECONDS = env_int("SIGNALING_JOIN_WINDOW_SECONDS", 60)
SIGNALING_JOINS_PER_MEMBER = env_int("SIGNALING_JOINS_PER_MEMBER", 30)
SIGNALING_JOINS_PER_ADDRESS = env_int("SIGNALING_JOINS_PER_ADDRESS", 120)
