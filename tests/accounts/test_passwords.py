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


PASSPHRASE_64 = "my 🐢 walks to the lake 🌊 every morning at six, rain or shine ok!"
PASSPHRASE_128 = (
    "the night shift at the 911 floor 🚑 hums along; headsets on, coffee 🫖 cold, "
    "maps glowing, and every call gets a human voice ☎️ ok"
)


def test_the_passphrases_have_the_lengths_the_tests_claim() -> None:
    assert (len(PASSPHRASE_64), len(PASSPHRASE_128)) == (64, 128)


@pytest.mark.parametrize("passphrase", [PASSPHRASE_64, PASSPHRASE_128], ids=["64", "128"])
def test_long_passphrases_with_spaces_and_emoji_are_accepted(passphrase: str) -> None:
    validate_password(passphrase)


@pytest.mark.real_hashing
@pytest.mark.parametrize("passphrase", [PASSPHRASE_64, PASSPHRASE_128], ids=["64", "128"])
def test_long_passphrases_are_verified_in_full(make_user, passphrase: str) -> None:
    """No truncation (ASVS 6.2.8): changing only the last character, or dropping it, fails."""
    user = make_user(Role.SOCIAL_WORKER)
    user.set_password(passphrase)
    user.save()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(passphrase)
    assert not user.check_password(passphrase[:-1] + "?")
    assert not user.check_password(passphrase[:-1])
    prefix = passphrase.encode()[:72].decode(errors="ignore")  # bcrypt's 72-byte limit: not ours
    assert prefix == passphrase or not user.check_password(prefix)


@pytest.mark.real_hashing
def test_a_long_passphrase_signs_in_through_the_page(make_user) -> None:
    from django.test import Client

    user = make_user(Role.TELECOMMUNICATOR, "tc-long")
    user.set_password(PASSPHRASE_128)
    user.save()
    response = Client().post("/login/", {"username": "tc-long", "password": PASSPHRASE_128})
    assert response.status_code == 302 and response["Location"] == "/login/enrol/"
    nearly = Client().post("/login/", {"username": "tc-long", "password": PASSPHRASE_128[:-1]})
    assert nearly.status_code == 200
