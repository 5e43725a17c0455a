"""Staff accounts (roles `agent` and `editor`), hashed passwords and login sessions.

Accounts live in a JSON file written by `govqa users add` (GOVQA_USERS_FILE, by default
`$GOVQA_DATA_DIR/users.json`) and/or in GOVQA_USERS ("name:role:hash,…", hashes from
`govqa users hash`). Only scrypt hashes are stored. A login gives an HttpOnly,
SameSite=Strict cookie naming a server-side session, so other sites can neither
read it nor make a browser send it with a forged request.

A session is bound to the account as it was at login: its role and its password hash.
Every request checks them against the accounts as they are now, so removing an account,
changing its role or its password ends its sessions at once, not when they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request

from knowledge.files import atomic_write

ROLES = ("agent", "editor")
# who may use what: the hotline console is for agents and editors, the editor console for editors only
ALLOWED = {"agent": frozenset(ROLES), "editor": frozenset({"editor"})}
COOKIE = "govqa_session"
SESSION_TTL_S = 8 * 3600      # one working shift
MIN_PASSWORD_CHARS = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str


def check_account(name: str, role: str) -> None:
    if not _NAME.match(name):
        raise ValueError("用户名只能包含字母、数字和 _ . @ -，最长64个字符")
    if role not in ROLES:
        raise ValueError(f"角色应为 {' 或 '.join(ROLES)}")


class Accounts:
    """The accounts file (re-read when it changes, so `govqa users add` needs no restart) plus GOVQA_USERS."""

    def __init__(self, path: Path, env_value: str = "") -> None:
        self.path = path
        self._env = _parse_env(env_value)
        self._file: dict[str, Account] = {}
        self._version: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self._dummy = hash_password(secrets.token_hex(8))

    @classmethod
    def from_env(cls, data_dir: Path) -> "Accounts":
        path = Path(os.environ.get("GOVQA_USERS_FILE") or data_dir / "users.json")
        return cls(path, os.environ.get("GOVQA_USERS", ""))

    def all(self) -> dict[str, Account]:
        with self._lock:
            version = self._file_version()
            if version != self._version:
                self._file = self._read_file()
                self._version = version
            return {**self._file, **self._env}

    def _file_version(self) -> tuple[int, int, int] | None:
        """What tells a rewrite of the file: a save replaces it (new inode), even within one clock tick."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def authenticate(self, name: str, password: str) -> Account | None:
        account = self.all().get(name)
        # an unknown name costs the same hashing as a wrong password, so names cannot be probed by timing
        ok = verify_password(password, account.password_hash if account else self._dummy)
        return account if ok and account else None

    def add(self, name: str, role: str, password: str) -> None:
        check_account(name, role)
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
        users = self._read_file()
        users[name] = Account(name, role, hash_password(password))
        self._write_file(users)

    def remove(self, name: str) -> None:
        users = self._read_file()
        if name not in users:
            raise KeyError(f"账号文件中没有用户 {name}")
        del users[name]
        self._write_file(users)

    def _read_file(self) -> dict[str, Account]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: Account(name, u["role"], u["password_hash"]) for name, u in data["users"].items()
                    if u.get("role") in ROLES}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"账号文件 {self.path} 格式错误：{exc}") from None

    def _write_file(self, users: dict[str, Account]) -> None:
        data = {"users": {a.name: {"role": a.role, "password_hash": a.password_hash} for a in users.values()}}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=2).encode(), mode=0o600)


def _parse_env(value: str) -> dict[str, Account]:
    accounts = {}
    for item in filter(None, (x.strip() for x in value.split(","))):
        parts = item.split(":")
        if len(parts) != 3:
            raise ValueError("GOVQA_USERS 的每一项应为 用户名:角色:密码哈希")
        name, role, password_hash = parts
        check_account(name, role)
        accounts[name] = Account(name, role, password_hash)
    return accounts


@dataclass(frozen=True)
class StaffUser:
    name: str
    role: str


def _credential(account: Account) -> str:
    """A digest of the stored password hash: a new password (a new salt, too) gives a new one."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()


class Sessions:
    """Logged-in staff by random session token; a restart logs everyone out, which is acceptable for staff."""

    def __init__(self, ttl_s: float = SESSION_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._sessions: dict[str, tuple[StaffUser, str, float]] = {}   # token -> (user, credential, expiry)
        self._lock = threading.Lock()

    def create(self, account: Account) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._sessions = {t: v for t, v in self._sessions.items() if v[2] > now}
            self._sessions[token] = (StaffUser(account.name, account.role), _credential(account), now + self.ttl_s)
        return token

    def get(self, token: str | None, accounts: Accounts) -> StaffUser | None:
        """The session's user while it lasts and the account still has the role and password it logged in
        with; a session whose account was removed, demoted or given a new password is ended here."""
        with self._lock:
            entry = self._sessions.get(token or "")
            if entry is None or entry[2] <= time.time():
                return None
        user, credential, _ = entry
        try:
            account = accounts.all().get(user.name)
        except ValueError:      # the accounts file is broken: nobody can be vouched for
            return None
        if account is None or account.role != user.role or _credential(account) != credential:
            self.drop(token)
            return None
        return user

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)


def current_user(request: Request) -> StaffUser | None:
    backend = request.app.state.backend
    return backend.sessions.get(request.cookies.get(COOKIE), backend.accounts)


def may_use(user: StaffUser | None, area: str) -> bool:
    return user is not None and user.role in ALLOWED[area]


def require(area: str):
    """A FastAPI dependency: 401 without a login, 403 for a role that may not use `area`."""

    def dependency(request: Request) -> StaffUser:
        user = current_user(request)
        if user is None:
            raise HTTPException(401, "请先登录")
        if not may_use(user, area):
            raise HTTPException(403, "当前账号没有权限（需要编辑角色）" if area == "editor" else "当前账号没有权限")
        return user

    return dependency
