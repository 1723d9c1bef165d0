"""Log-in, lock-out, password hashing and production security settings. Issue #2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from xinye.demo.services import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_the_demo_password_reaches_the_dashboard(client):
    response = client.post("/accounts/login/", {"username": "organizer", "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["people"]["workers"] > 0


def test_repeated_failures_lock_the_account_out(client):
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "organizer", "password": "wrong"})
    assert response.status_code in (403, 429)
    # even the right password is refused while locked out
    response = client.post("/accounts/login/", {"username": "organizer", "password": DEMO_PASSWORD})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2():
    user = get_user_model().objects.get(username="organizer")
    assert user.password.startswith("argon2")


def test_logout_needs_a_post(login):
    client = login("member")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302


def _settings_in_subprocess(env: dict) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k, None) for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME']}))"
    )
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "xinye.config.settings", **env}
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=False)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}


def test_production_settings_use_secure_cookies_and_need_a_secret_key():
    prod = _settings_in_subprocess(
        {
            "XINYE_PRODUCTION": "1",
            "XINYE_SECRET_KEY": "a-Strong-s3cret-" * 4,
            "XINYE_ALLOWED_HOSTS": "xinye.example.cn",
            "XINYE_SMS_SENDER": "xinye.people.sms.ConsoleSender",
            "XINYE_ALLOW_CONSOLE_SMS": "1",
        }
    )
    assert prod == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
    }
    missing = _settings_in_subprocess(
        {"XINYE_PRODUCTION": "1", "XINYE_SECRET_KEY": "", "XINYE_ALLOWED_HOSTS": "xinye.example.cn"}
    )
    assert "XINYE_SECRET_KEY must be set" in missing["error"]


def test_csrf_is_enforced_on_login():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "organizer", "password": DEMO_PASSWORD})
    assert response.status_code == 403
