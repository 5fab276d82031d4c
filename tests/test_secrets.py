"""Where secrets live: the environment wins, else the OS keyring, or the encrypted file the
user opted into; every failure is one line naming the fallbacks, never the secret."""

import json
import os
import stat

import pytest
from keyring.backends.null import Keyring as NullKeyring
from keyring.errors import InitError, KeyringError, KeyringLocked, NoKeyringError

from fake_keyrings import MemoryKeyring, RaisingKeyring, using
from trueup.core.settings import secret_backends as secret_store
from trueup.core.settings.config import ConfigError, Settings
from trueup.core.settings.secret_backends import (
    EncryptedFileStore,
    KeyringStore,
    SecretError,
    StoreLockedError,
)
from trueup.core.settings.secrets import Secrets

SECRET = "s3cret-Vq81-xyzzy"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    # The cost is read from each file, so a cheap one here changes nothing but the speed.
    monkeypatch.setattr(secret_store, "SCRYPT_N", 2**10)


@pytest.fixture
def settings(tmp_path):
    return Settings(path=tmp_path / "config.toml")


def file_settings(tmp_path):
    settings = Settings(path=tmp_path / "config.toml")
    settings.secrets.backend = "encrypted-file"
    return settings


def file_env(tmp_path, passphrase="correct horse"):
    env = {"TRUEUP_SECRETS_FILE": str(tmp_path / "secrets.enc")}
    if passphrase:
        env["TRUEUP_SECRETS_PASSPHRASE"] = passphrase
    return env


# --- the keyring --------------------------------------------------------------------------------


def test_a_secret_saved_in_the_keyring_is_read_back_and_located(settings):
    with using(MemoryKeyring()) as backend:
        secrets = Secrets(settings, env={})
        secrets.save_client_secret("pax8", "client-1", SECRET)
        assert backend.passwords == {("trueup", "pax8:client-1"): SECRET}
        assert Secrets(settings, env={}).client_secret("pax8", "client-1") == SECRET
        location = secrets.locate("pax8", "client-1")
    assert (location.where, location.found) == ("OS keyring", True)
    assert SECRET not in repr(location)


def test_the_environment_wins_over_the_keyring(settings):
    with using(MemoryKeyring()):
        Secrets(settings, env={}).save_client_secret("halo", "c", "from-keyring")
        secrets = Secrets(settings, env={"TRUEUP_HALO_CLIENT_SECRET": "from-env"})
        assert secrets.client_secret("halo", "c") == "from-env"
        location = secrets.locate("halo", "c")
    assert location.where == "environment (TRUEUP_HALO_CLIENT_SECRET)" and location.found


def test_a_missing_secret_says_how_to_give_one(settings):
    with using(MemoryKeyring()), pytest.raises(SecretError) as error:
        Secrets(settings, env={}).client_secret("pax8", "c")
    assert str(error.value) == (
        "no pax8 client secret in the OS keyring: run `trueup connect pax8` or set "
        "TRUEUP_PAX8_CLIENT_SECRET"
    )


def test_no_keyring_says_so_plainly_and_offers_the_fallbacks(settings):
    with using(RaisingKeyring(NoKeyringError("No recommended backend was available."))):
        secrets = Secrets(settings, env={})
        with pytest.raises(SecretError) as reading:
            secrets.client_secret("pax8", "c")
        with pytest.raises(SecretError) as saving:
            secrets.save_client_secret("pax8", "c", SECRET)
        location = secrets.locate("pax8", "c")
    for message in (str(reading.value), str(saving.value), location.problem):
        assert message.startswith("no OS keyring on this host")
        assert "set TRUEUP_PAX8_CLIENT_SECRET in the environment" in message
        assert "`trueup connect pax8 --secrets encrypted-file`" in message
        assert "\n" not in message
    assert not location.found


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (KeyringLocked("unlock failed"), "the OS keyring is locked: unlock it"),
        (InitError("Prompt dismissed"), "the OS keyring could not start (Prompt dismissed)"),
        (KeyringError(f"D-Bus refused {SECRET}"), "the OS keyring failed (KeyringError: D-Bus"),
    ],
)
def test_a_failing_keyring_is_explained_without_the_secret(settings, error, said):
    with using(RaisingKeyring(error)), pytest.raises(SecretError) as failure:
        Secrets(settings, env={}).save_client_secret("halo", "c", SECRET)
    assert said in str(failure.value)
    assert SECRET not in str(failure.value)
    assert "TRUEUP_HALO_CLIENT_SECRET" in str(failure.value)


def test_a_keyring_that_keeps_nothing_is_refused_not_trusted(settings):
    """keyring's null backend (PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring, often set
    to quiet other tools) answers every write and keeps nothing: a rotated refresh token given
    to it was lost while trueup said it was stored."""
    with using(NullKeyring()):
        secrets = Secrets(settings, env={})
        with pytest.raises(SecretError, match="does not keep what it is given"):
            secrets.check_store("qbo")
        with pytest.raises(SecretError, match="does not keep what it is given"):
            secrets.save_client_secret("pax8", "client-1", SECRET)
        with pytest.raises(SecretError) as rotated:
            secrets.refresh_tokens("123").save("RT-next")
    assert str(rotated.value).startswith("cannot keep QuickBooks' new refresh token")
    assert "keyring.backends.null.Keyring" in str(rotated.value)


def test_the_environment_still_works_when_there_is_no_keyring(settings):
    with using(RaisingKeyring(NoKeyringError())):
        secrets = Secrets(settings, env={"TRUEUP_PAX8_CLIENT_SECRET": SECRET})
        assert secrets.client_secret("pax8", "c") == SECRET


def test_an_unknown_backend_names_the_key(settings):
    settings.secrets.backend = "vault"
    with pytest.raises(ConfigError, match=r'\[secrets\] backend must be "keyring" or'):
        Secrets(settings, env={})


# --- the encrypted file -----------------------------------------------------------------------


def test_the_encrypted_file_round_trips_and_holds_no_plaintext(tmp_path):
    settings, env = file_settings(tmp_path), file_env(tmp_path)
    secrets = Secrets(settings, env=env)
    secrets.save_client_secret("pax8", "p", SECRET)
    secrets.save_client_secret("halo", "h", "another-one")
    again = Secrets(settings, env=env)
    assert again.client_secret("pax8", "p") == SECRET
    assert again.client_secret("halo", "h") == "another-one"
    assert again.locate("halo", "h").where == "encrypted file"
    path = tmp_path / "secrets.enc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert SECRET not in text and "another-one" not in text and "correct horse" not in text
    assert json.loads(text)["kdf"]["name"] == "scrypt"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_wrong_passphrase_is_named_and_the_file_left_alone(tmp_path):
    Secrets(file_settings(tmp_path), env=file_env(tmp_path)).save_client_secret("pax8", "p", SECRET)
    before = (tmp_path / "secrets.enc").read_bytes()
    wrong = Secrets(file_settings(tmp_path), env=file_env(tmp_path, "battery staple"))
    with pytest.raises(SecretError) as failure:
        wrong.client_secret("pax8", "p")
    assert str(failure.value) == (
        f"the passphrase does not open {tmp_path / 'secrets.enc'} (or the file was altered): "
        "check TRUEUP_SECRETS_PASSPHRASE (or set TRUEUP_PAX8_CLIENT_SECRET in the environment)"
    )
    with pytest.raises(SecretError):
        wrong.save_client_secret("pax8", "p", "overwrite")
    assert (tmp_path / "secrets.enc").read_bytes() == before


def test_no_passphrase_says_where_to_give_it(tmp_path):
    Secrets(file_settings(tmp_path), env=file_env(tmp_path)).save_client_secret("pax8", "p", SECRET)
    unset = Secrets(file_settings(tmp_path), env=file_env(tmp_path, passphrase=""))
    with pytest.raises(StoreLockedError, match="is locked: set TRUEUP_SECRETS_PASSPHRASE to its"):
        unset.client_secret("pax8", "p")
    location = unset.locate("pax8", "p")
    assert location.locked and not location.found


def test_a_prompted_passphrase_is_asked_twice_only_for_a_new_file(tmp_path):
    asked = []

    def prompt(creating):
        asked.append(creating)
        return "typed"

    store = EncryptedFileStore(tmp_path / "s.enc", prompt)
    store.set("a", "1")
    store.set("b", "2")  # the key is derived once per file
    assert EncryptedFileStore(tmp_path / "s.enc", prompt).get("a") == "1"
    assert asked == [True, False]


def test_a_crash_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    store = EncryptedFileStore(tmp_path / "s.enc", lambda creating: "pw")
    store.set("token", "old")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.set("token", "new")
    monkeypatch.undo()
    assert EncryptedFileStore(tmp_path / "s.enc", lambda creating: "pw").get("token") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.enc", "s.enc.lock"]


def test_a_file_that_is_not_ours_is_refused(tmp_path):
    (tmp_path / "s.enc").write_text('{"hello": "world"}')
    with pytest.raises(SecretError, match="is not a trueup secrets file"):
        EncryptedFileStore(tmp_path / "s.enc", lambda creating: "pw").get("x")


# --- the QuickBooks refresh token -------------------------------------------------------------


def test_the_refresh_token_is_seeded_from_the_environment_then_kept_rotated(settings):
    with using(MemoryKeyring()):
        seeded = Secrets(settings, env={"TRUEUP_QBO_REFRESH_TOKEN": "RT-seed"})
        store = seeded.refresh_tokens("123")
        assert store.load() == "RT-seed"
        assert store.locate().where == "environment (TRUEUP_QBO_REFRESH_TOKEN)"
        store.save("RT-rotated")
        assert store.load() == "RT-rotated"  # the rotated one wins over the seed it grew from
        assert store.locate().where == "OS keyring"
        reseeded = Secrets(settings, env={"TRUEUP_QBO_REFRESH_TOKEN": "RT-new-consent"})
        assert reseeded.refresh_tokens("123").load() == "RT-new-consent"
        assert Secrets(settings, env={}).refresh_tokens("123").load() == "RT-rotated"
        assert Secrets(settings, env={}).refresh_tokens("other").load() is None


def test_the_refresh_token_lives_in_the_encrypted_file_when_opted_in(tmp_path):
    secrets = Secrets(file_settings(tmp_path), env=file_env(tmp_path))
    secrets.refresh_tokens("123").save("RT-1")
    again = Secrets(file_settings(tmp_path), env=file_env(tmp_path)).refresh_tokens("123")
    assert again.load() == "RT-1" and again.locate().where == "encrypted file"
    assert "RT-1" not in (tmp_path / "secrets.enc").read_text()


def test_a_rotated_token_that_cannot_be_kept_is_an_error(settings):
    with using(RaisingKeyring(NoKeyringError())):
        store = Secrets(settings, env={"TRUEUP_QBO_REFRESH_TOKEN": "RT-seed"}).refresh_tokens("1")
        assert store.load() == "RT-seed"
        with pytest.raises(SecretError) as failure:
            store.save("RT-next")
    message = str(failure.value)
    assert message.startswith("cannot keep QuickBooks' new refresh token")
    assert "--secrets encrypted-file" in message and "RT-next" not in message


def test_a_refresh_starts_from_what_is_stored_now_else_the_token_in_hand(tmp_path, settings):
    with using(MemoryKeyring()):
        first, second = (Secrets(settings, env={}).refresh_tokens("9") for _ in range(2))
        first.save("RT-from-another-process")
        assert second.stored() == "RT-from-another-process"
    locked = Secrets(file_settings(tmp_path), env=file_env(tmp_path, passphrase=""))
    assert locked.refresh_tokens("9").stored() is None  # locked: the client keeps its own


def test_the_keyring_store_can_use_a_given_backend():
    backend = MemoryKeyring()
    store = KeyringStore(backend)
    store.set("n", "v")
    store.delete("n")
    store.delete("n")  # gone already: fine
    assert store.get("n") is None


def test_a_secret_in_the_environment_is_read_without_its_line_end(settings):
    """From a boundary review: a CRLF env file (systemd, docker) left '\\r' on the secret,
    and every sign-in failed as a wrong secret."""
    secrets = Secrets(settings, env={"TRUEUP_PAX8_CLIENT_SECRET": f" {SECRET}\r\n"})
    assert secrets.client_secret("pax8", "c") == SECRET
