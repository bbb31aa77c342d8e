"""Passwords: Argon2id hashes, at least 15 characters, common passwords refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from crisisdesk.domain.roles import Role


@pytest.mark.real_hashing
def test_passwords_are_stored_as_argon2id(make_user) -> None:
    user = make_user(Role.SOCIAL_WORKER)
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("correct horse battery staple")
    assert not user.check_password("correct horse battery stapler")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("fourteen chars", False),  # 14 characters
        ("fifteen chars!!", True),  # 15 characters, no composition rules
        ("q1w2e3r4t5y6u7i8o9p0", False),  # long enough, but on the common-passwords list
        ("a calm walk by the river", True),
    ],
)
def test_password_rules(password: str, ok: bool) -> None:
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)
