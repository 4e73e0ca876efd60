"""Settings of logging in to the back-offices: password rules, the
authentication backends, and login throttling (django-axes). Read into base.py."""

from datetime import timedelta

from .env import env

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "accounts.login_throttle.LoginThrottleBackend",  # refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login throttling (django-axes) -----------------------------------------------
# On both back-offices: after LOGIN_FAILURE_LIMIT wrong passwords for one
# account from one address, that account cannot log in from there for
# LOGIN_LOCKOUT_MINUTES (each further try restarts the wait). Another address
# or another account is not affected. Support unlocks in /admin/ (Access
# attempts: delete the row) or with `manage.py axes_reset_username <e-mail>`.
# Behind a proxy, set AXES_IPWARE_* or AXES_CLIENT_IP_CALLABLE so the
# client's address is counted, not the proxy's.
AXES_VERBOSE = False  # no banner at every start of every command
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login forms' field is "username" (it holds the e-mail address).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login_throttle.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.login_throttle.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLE_ADMIN = False  # registered on the support site (accounts/admin_lockouts.py)
