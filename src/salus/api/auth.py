"""Bearer-token authentication for the API.

Tokens are created with ``salus token create USERNAME`` and stored only as a SHA-256 hash
(salus.core.actions). A missing, unknown or revoked token, or the token of a deactivated user,
gets 401 with the error shape of salus.api.errors.
"""

from __future__ import annotations

from ninja.security import HttpBearer

from salus.core.actions import user_for_token


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; the request's user becomes the token's owner."""

    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        user = user_for_token(token.strip())
        if user is None:
            return None
        # Everything downstream (access checks, audit rows) reads request.user.
        request.user = user
        return user
