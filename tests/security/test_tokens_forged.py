"""Forged, foreign, expired and revoked JWTs are refused with 401 and a stable error code.

Tokens are built by hand (header, claims, signature) so that each test changes exactly one
thing against a token the server accepts (`test_control_token_built_here_is_accepted`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from jose import jwt
from sqlmodel import Session

from app.config import get_settings
from tests.factories import PASSWORD, make_staff

ME = "/api/v1/auth/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return (_b64(json.dumps(header, separators=(",", ":")).encode()) + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode()))


def _hmac_token(claims: dict[str, Any], key: bytes, alg: str = "HS256",
                header: dict[str, Any] | None = None) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    signing_input = _segments({"alg": alg, "typ": "JWT", **(header or {})}, claims)
    hash_name = digest.get(alg, hashlib.sha256)  # e.g. "RS256" in the header, HMAC underneath
    signature = hmac.new(key, signing_input.encode(), hash_name).digest()
    return signing_input + "." + _b64(signature)


def _secret() -> bytes:
    return get_settings().secret_key.encode()


def _login(client: TestClient, db: Session, username: str = "victim") -> dict[str, Any]:
    make_staff(db, username=username)
    db.commit()
    r = client.post("/api/v1/auth/login",
                    json={"username": username, "password": PASSWORD, "mode": "bearer"})
    assert r.status_code == 200, r.text
    return r.json()


def _claims(session_out: dict[str, Any]) -> dict[str, Any]:
    return jwt.get_unverified_claims(session_out["access_token"])


def _refused(client: TestClient, token: str, code: str = "token_invalid") -> None:
    r = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == code
    assert r.json()["detail"]  # a Chinese message for the user, never the library's text
    assert "jose" not in r.text.lower() and "signature" not in r.text.lower()


def test_control_token_built_here_is_accepted(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    token = _hmac_token(claims, _secret())
    r = client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["username"] == "victim"


def test_wrong_signature_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token(claims, b"another-secret-that-is-long-enough-0123456789"))


def test_flipped_signature_bytes_are_refused(client: TestClient, db: Session) -> None:
    token = _login(client, db)["access_token"]
    head, body, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[0] ^= 0x01
    _refused(client, f"{head}.{body}.{_b64(bytes(raw))}")


def test_tampered_claims_keep_no_privilege(client: TestClient, db: Session) -> None:
    admin_id = make_staff(db, username="root", platform_admin=True).id
    out = _login(client, db)
    head, _, sig = out["access_token"].split(".")
    forged_body = _b64(json.dumps({**_claims(out), "sub": str(admin_id)}).encode())
    _refused(client, f"{head}.{forged_body}.{sig}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(client: TestClient, db: Session, alg: str) -> None:
    claims = _claims(_login(client, db))
    unsigned = _segments({"alg": alg, "typ": "JWT"}, claims)
    _refused(client, unsigned + ".")
    _refused(client, unsigned)  # and without the trailing dot


def test_hs512_signed_with_the_real_secret_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token(claims, _secret(), alg="HS512"))
    _refused(client, _hmac_token(claims, _secret(), alg="HS384"))


@pytest.mark.parametrize("header_alg", ["HS256", "RS256", "EdDSA"])
def test_published_public_key_as_hmac_secret_is_refused(
    client: TestClient, db: Session, header_alg: str
) -> None:
    """Algorithm confusion: the audit key from /audit/public-key used as an HMAC secret."""
    claims = _claims(_login(client, db))
    pem = client.get("/api/v1/audit/public-key")
    assert pem.status_code == 200 and "BEGIN PUBLIC KEY" in pem.text
    for key in (pem.text.encode(), pem.text.strip().encode()):
        _refused(client, _hmac_token(claims, key, alg=header_alg))


def test_rs256_signed_with_an_attackers_key_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = attacker.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(b"\x01\x00\x01")}
    for header in ({}, {"jwk": jwk}, {"kid": "attacker"}):
        signing_input = _segments({"alg": "RS256", "typ": "JWT", **header}, claims)
        signature = attacker.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        _refused(client, signing_input + "." + _b64(signature))
    # The same forgery through the library, with the attacker's PEM: refused as well.
    pem = attacker.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    _refused(client, jwt.encode(claims, pem.decode(), algorithm="RS256"))


def test_eddsa_signed_with_an_attackers_key_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    signing_input = _segments({"alg": "EdDSA", "typ": "JWT"}, claims)
    signature = Ed25519PrivateKey.generate().sign(signing_input.encode())
    _refused(client, signing_input + "." + _b64(signature))


def test_token_for_another_audience_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token({**claims, "aud": "gongjue-admin"}, _secret()))
    _refused(client, _hmac_token({**claims, "aud": ["other-api"]}, _secret()))
    without = {k: v for k, v in claims.items() if k != "aud"}
    _refused(client, _hmac_token(without, _secret()))


def test_token_from_another_issuer_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token({**claims, "iss": "someone-else"}, _secret()))
    without = {k: v for k, v in claims.items() if k != "iss"}
    _refused(client, _hmac_token(without, _secret()))


def test_expired_token_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token({**claims, "exp": claims["iat"] - 1}, _secret()))
    _refused(client, _hmac_token({k: v for k, v in claims.items() if k != "exp"}, _secret()))
    _refused(client, _hmac_token({**claims, "exp": str(claims["exp"])}, _secret()))


def test_refresh_token_is_not_an_access_token(client: TestClient, db: Session) -> None:
    _refused(client, _login(client, db)["refresh_token"])


def test_token_of_an_unknown_account_is_refused(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    _refused(client, _hmac_token({**claims, "sub": "987654"}, _secret()))


def test_token_revoked_by_logout_is_refused(client: TestClient, db: Session) -> None:
    out = _login(client, db)
    headers = {"Authorization": f"Bearer {out['access_token']}"}
    assert client.get(ME, headers=headers).status_code == 200
    r = client.post("/api/v1/auth/logout", json={"refresh_token": out["refresh_token"]},
                    headers=headers)
    assert r.status_code == 200
    _refused(client, out["access_token"], code="token_revoked")
    # Re-signing the revoked token's claims does not help: the denylist is keyed by its jti.
    _refused(client, _hmac_token(_claims(out), _secret()), code="token_revoked")
    refreshed = client.post("/api/v1/auth/refresh",
                            json={"refresh_token": out["refresh_token"], "mode": "bearer"})
    assert refreshed.status_code == 401 and refreshed.json()["error"] == "token_revoked"


def test_token_version_bump_invalidates_every_token(client: TestClient, db: Session) -> None:
    first = _login(client, db)
    second = client.post("/api/v1/auth/login", json={"username": "victim", "password": PASSWORD,
                                                     "mode": "bearer"}).json()
    r = client.post("/api/v1/auth/logout", json={"everywhere": True},
                    headers={"Authorization": f"Bearer {first['access_token']}"})
    assert r.status_code == 200
    _refused(client, second["access_token"], code="token_revoked")
    # Even a token minted with the real key but the old version number is refused.
    _refused(client, _hmac_token({**_claims(second), "jti": "f" * 32}, _secret()),
             code="token_revoked")
    refreshed = client.post("/api/v1/auth/refresh",
                            json={"refresh_token": second["refresh_token"], "mode": "bearer"})
    assert refreshed.status_code == 401 and refreshed.json()["error"] == "token_revoked"
    fresh = client.post("/api/v1/auth/login", json={"username": "victim", "password": PASSWORD,
                                                    "mode": "bearer"}).json()
    assert client.get(ME, headers={"Authorization": f"Bearer {fresh['access_token']}"}
                      ).status_code == 200


def test_forged_cookie_token_is_refused_like_a_bearer(client: TestClient, db: Session) -> None:
    claims = _claims(_login(client, db))
    client.cookies.set("gj_access", _hmac_token(claims, b"x" * 40))
    r = client.get(ME)
    assert r.status_code == 401 and r.json()["error"] == "token_invalid"
