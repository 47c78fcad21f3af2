"""Console sessions: sign-in against the identity's local password, signed session cookies,
a CSRF token per session, and a lockout after repeated failures. Who a request is comes only
from the server's session table, never from anything else the browser sends."""
from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer

COOKIE = "govlake_session"
LOGIN_COOKIE = "govlake_login"  # double-submit token of the sign-in form (no session yet)


@dataclass(frozen=True)
class Session:
    sid: str
    user: str
    csrf: str
    expires: float


class Sessions:
    def __init__(self, key: bytes, lifetime_s: int, max_failures: int, lockout_s: int):
        self._signer = Signer(key, salt="govlake-console-session")
        self._lifetime = lifetime_s
        self._max_failures, self._lockout = max_failures, lockout_s
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    # -- sessions
    def open(self, user: str) -> tuple[Session, str]:
        s = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), time.time() + self._lifetime)
        with self._lock:
            self._sessions[s.sid] = s
        return s, self._signer.sign(s.sid).decode()

    def find(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            sid = self._signer.unsign(cookie).decode()
        except BadSignature:
            return None
        with self._lock:
            s = self._sessions.get(sid)
            if s is not None and s.expires < time.time():
                del self._sessions[sid]
                return None
        return s

    def close(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.sid, None)

    def end_all(self, user: str) -> None:
        with self._lock:
            for sid in [k for k, s in self._sessions.items() if s.user == user]:
                del self._sessions[sid]

    # -- the sign-in form's token (signed, compared with the form's copy)
    def login_token(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        return token, self._signer.sign(token).decode()

    def login_token_ok(self, cookie: str | None, form_token: str | None) -> bool:
        if not cookie or not form_token:
            return False
        try:
            return secrets.compare_digest(self._signer.unsign(cookie).decode(), form_token)
        except BadSignature:
            return False

    # -- lockout: `max_failures` failures within `lockout_s` lock the user for `lockout_s`
    def locked(self, user: str) -> bool:
        now = time.time()
        with self._lock:
            q = self._failures[user]
            while q and q[0] < now - self._lockout:
                q.popleft()
            return len(q) >= self._max_failures

    def failed(self, user: str) -> bool:
        """Count a failure; True when it locks the user out."""
        with self._lock:
            self._failures[user].append(time.time())
        return self.locked(user)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(user, None)


def csrf_ok(session: Session, form_token: str | None) -> bool:
    return bool(form_token) and secrets.compare_digest(session.csrf, form_token)
