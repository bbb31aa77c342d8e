"""Write path for accounts (one package, same public names as the former services.py):

- base: people's accounts, integration accounts and their API tokens;
- signin: the password step, the second factor (TOTP), lockout, the per-address throttle, unlock;
- sessions: server-side sessions (start, idle and absolute limits, logout) and disabling accounts.
"""

from crisisdesk.accounts.services.base import (
    LAST_USED_RESOLUTION,
    MAX_RAW_TOKEN_LENGTH,
    AccountError,
    TokenError,
    authenticate_token,
    create_account,
    create_integration_account,
    is_integration,
    issue_api_token,
    revoke_api_token,
)
from crisisdesk.accounts.services.sessions import (
    disable_account,
    end_login_session,
    expiry_reason,
    live_session,
    start_login_session,
)
from crisisdesk.accounts.services.signin import (
    Outcome,
    SignInResult,
    check_password,
    client_is_throttled,
    current_code,
    enrol_device,
    has_confirmed_device,
    install_known_device,
    is_locked,
    is_person,
    locked_accounts,
    new_device_key,
    unlock_account,
    verify_code,
)

__all__ = [
    "LAST_USED_RESOLUTION",
    "MAX_RAW_TOKEN_LENGTH",
    "AccountError",
    "Outcome",
    "SignInResult",
    "TokenError",
    "authenticate_token",
    "check_password",
    "client_is_throttled",
    "current_code",
    "create_account",
    "create_integration_account",
    "disable_account",
    "enrol_device",
    "end_login_session",
    "expiry_reason",
    "has_confirmed_device",
    "install_known_device",
    "is_integration",
    "is_locked",
    "is_person",
    "issue_api_token",
    "live_session",
    "locked_accounts",
    "new_device_key",
    "revoke_api_token",
    "start_login_session",
    "unlock_account",
    "verify_code",
]
