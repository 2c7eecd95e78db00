"""Test settings: the real settings with a fast password hasher and unhashed static files."""

from linli.settings import *  # noqa: F403

# Argon2 is the production hasher (tested in test_accounts_login); the suite logs in hundreds of
# times, so it hashes with MD5 here.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Each test run gets its own SQLite file, so two runs on one machine never share a database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test-{_os.getpid()}.sqlite3")  # noqa: F405
    }
