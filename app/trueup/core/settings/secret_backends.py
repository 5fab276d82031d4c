"""Where secrets are kept: the OS keyring, or an encrypted file the user opted into.

Both stores hold named strings (a client secret, a QuickBooks refresh token) and raise
SecretError with one line saying what is wrong. Neither ever puts a value in a message.

The encrypted file is for hosts with no keyring (a headless jump box): `cryptography`'s Fernet
(AES-128-CBC with an HMAC-SHA256) under a key derived from a passphrase by scrypt. Writes are
atomic and durable (temporary file, fsync, rename, fsync of the folder): a rotated refresh
token saved here survives a crash the instant `set` returns.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import keyring
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backend import KeyringBackend
from keyring.errors import (
    InitError,
    KeyringError,
    KeyringLocked,
    NoKeyringError,
    PasswordDeleteError,
)

from trueup.core.errors import TrueupError

KEYRING_SERVICE = "trueup"
FILE_FORMAT = "trueup-secrets"
SCRYPT_N = 2**17  # ~0.5 s on a laptop core: OWASP's scrypt minimum is 2**17 with r=8, p=1
SCRYPT_N_RANGE = (2**10, 2**22)  # what a file may ask for; more would be a denial of service

# Asked for the passphrase; the argument says whether the file is about to be created.
PassphraseSource = Callable[[bool], str]


class SecretError(TrueupError):
    """A secret cannot be read or kept; str() is one line saying what to do."""


class StoreUnavailableError(SecretError):
    """The store as a whole cannot be used (no keyring, locked, wrong passphrase)."""


class StoreLockedError(StoreUnavailableError):
    """The store is there but locked (a locked keyring, no or the wrong passphrase): whether a
    secret is in it cannot be told until it is unlocked."""


class SecretStore(Protocol):
    where: str  # in words, for status lines: "OS keyring", "encrypted file"

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...

    def check(self) -> None:
        """Raise StoreUnavailableError now if a secret given to the store would not be kept."""


class KeyringStore:
    """The OS keyring (Secret Service, KWallet, macOS Keychain, Windows Credential Locker)."""

    where = "OS keyring"

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend  # None: whatever keyring chose (keyring.set_keyring in tests)

    def get(self, name: str) -> str | None:
        with self._plainly():
            return self._keyring.get_password(KEYRING_SERVICE, name)

    def set(self, name: str, value: str) -> None:
        with self._plainly(value):
            self._keyring.set_password(KEYRING_SERVICE, name, value)
            kept = self._keyring.get_password(KEYRING_SERVICE, name)
        if kept != value:
            raise self._discards()

    def delete(self, name: str) -> None:
        with self._plainly(), contextlib.suppress(PasswordDeleteError):
            self._keyring.delete_password(KEYRING_SERVICE, name)

    def check(self) -> None:
        """A value written, read back and taken away: a backend that answers every write
        without keeping it (keyring's null backend, which PYTHON_KEYRING_BACKEND often names
        to quiet other tools) must be found before a refresh token is trusted to it."""
        probe = f"probe:{secrets.token_hex(8)}"
        self.set(probe, probe)
        self.delete(probe)

    def _discards(self) -> StoreUnavailableError:
        backend = type(self._keyring)
        return StoreUnavailableError(
            f"the OS keyring ({backend.__module__}.{backend.__name__}) does not keep what it is "
            "given (check PYTHON_KEYRING_BACKEND and keyringrc.cfg)"
        )

    @property
    def _keyring(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    @contextlib.contextmanager
    def _plainly(self, value: str = "") -> Iterator[None]:
        """Keyring failures as one line; a backend's own words never carry the value."""
        try:
            yield
        except NoKeyringError:
            raise StoreUnavailableError(
                "no OS keyring on this host (no Secret Service or KWallet, as is usual over SSH)"
            ) from None
        except KeyringLocked:
            raise StoreLockedError(
                "the OS keyring is locked: unlock it (e.g. `gnome-keyring-daemon --unlock`)"
            ) from None
        except InitError as exc:
            reason = _first_line(exc, value)
            raise StoreUnavailableError(f"the OS keyring could not start ({reason})") from None
        except KeyringError as exc:
            reason = f"{type(exc).__name__}: {_first_line(exc, value)}"
            raise StoreUnavailableError(f"the OS keyring failed ({reason})") from None


class EncryptedFileStore:
    """Named secrets in one file, encrypted whole under a passphrase, mode 0600."""

    where = "encrypted file"

    def __init__(
        self, path: Path, passphrase: PassphraseSource, *, work_factor: int | None = None
    ) -> None:
        self.path = path
        self._passphrase = passphrase
        self._work_factor = work_factor or SCRYPT_N  # a new file's; an old one says its own
        self._keys: dict[tuple[bytes, int], Fernet] = {}  # derived once per salt and cost

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        with self._locked():
            values = self._read()
            values[name] = value
            self._write(values)

    def delete(self, name: str) -> None:
        with self._locked():
            values = self._read()
            if values.pop(name, None) is not None:
                self._write(values)

    def check(self) -> None:
        """The file opens (a write that fails says so itself)."""
        self._read()

    # -- the file --------------------------------------------------------------------------

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretError(f"cannot read {self.path}: {exc.strerror}") from None
        header = self._header(text)
        fernet = self._fernet(header["salt"], header["n"], creating=False)
        try:
            plain = fernet.decrypt(header["data"])
        except InvalidToken:
            del self._keys[(header["salt"], header["n"])]  # ask again next time
            raise StoreLockedError(
                f"the passphrase does not open {self.path} (or the file was altered): "
                "check TRUEUP_SECRETS_PASSPHRASE"
            ) from None
        values = json.loads(plain)
        return {str(k): str(v) for k, v in values.items()}

    def _header(self, text: str) -> dict[str, Any]:
        broken = SecretError(f"{self.path} is not a trueup secrets file: move it away")
        try:
            raw = json.loads(text)
            kdf = raw["kdf"]
            header = {
                "salt": base64.b64decode(kdf["salt"], validate=True),
                "n": int(kdf["n"]),
                "data": raw["data"].encode("ascii"),
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            raise broken from None
        if raw.get("format") != FILE_FORMAT or kdf.get("name") != "scrypt":
            raise broken
        if not SCRYPT_N_RANGE[0] <= header["n"] <= SCRYPT_N_RANGE[1]:
            raise broken
        return header

    def _write(self, values: dict[str, str]) -> None:
        if self.path.exists():
            header = self._header(self.path.read_text(encoding="utf-8"))
            salt, cost = header["salt"], header["n"]
        else:
            salt, cost = secrets.token_bytes(16), self._work_factor
        token = self._fernet(salt, cost, creating=not self.path.exists()).encrypt(
            json.dumps(values, sort_keys=True).encode("utf-8")
        )
        document = {
            "format": FILE_FORMAT,
            "version": 1,
            "kdf": {"name": "scrypt", "salt": base64.b64encode(salt).decode(), "n": cost},
            "data": token.decode("ascii"),
        }
        _write_durably(self.path, json.dumps(document, indent=1) + "\n")

    def _fernet(self, salt: bytes, cost: int, *, creating: bool) -> Fernet:
        if (salt, cost) not in self._keys:
            passphrase = self._passphrase(creating)
            if not passphrase:
                raise StoreLockedError(f"an empty passphrase cannot open {self.path}")
            key = Scrypt(salt=salt, length=32, n=cost, r=8, p=1).derive(passphrase.encode())
            self._keys[(salt, cost)] = Fernet(base64.urlsafe_b64encode(key))
        return self._keys[(salt, cost)]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (read, change, write), where flock exists."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: the rename is still atomic
            yield
            return
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old file or the new, never half."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # not every platform can open a folder
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _first_line(exc: BaseException, value: str) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[0][:120] if lines else type(exc).__name__
    return line.replace(value, "***") if value else line
