"""Settings refuse placeholder secrets outside development; tokens are checked strictly."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict
from service_common.errors import Unauthorized
from service_common.settings import Environment, JWTSettings, ServiceSettings
from service_common.tokens import TokenCodec, bearer_token

KEY = "k" * 32
OTHER_KEY = "o" * 32


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", env_nested_delimiter="__")
    jwt: JWTSettings = JWTSettings()


def test_placeholder_secret_is_accepted_in_development() -> None:
    assert DemoSettings(environment=Environment.DEVELOPMENT).jwt.secret.get_secret_value()


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
def test_placeholder_secret_is_refused_outside_development(environment: Environment) -> None:
    with pytest.raises(ValidationError, match="jwt.secret must be a real secret"):
        DemoSettings(environment=environment)


def test_short_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="32"):
        DemoSettings(environment="production", jwt=JWTSettings(secret=SecretStr("x" * 31)))


def test_real_secret_from_nested_env_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    monkeypatch.setenv("DEMO_JWT__SECRET", KEY)
    settings = DemoSettings()
    assert settings.jwt.secret.get_secret_value() == KEY
    assert KEY not in repr(settings)


def test_profiling_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="development only"):
        DemoSettings(environment="test", profiling=True, jwt=JWTSettings(secret=SecretStr(KEY)))


def codec(key: str = KEY, audience: str = "api", issuer: str = "lab") -> TokenCodec:
    return TokenCodec(key, issuer=issuer, audience=audience)


def test_issued_token_verifies_with_its_claims() -> None:
    token, claims = codec().issue(user_id=7, session_id="s1", token_type="access", ttl_s=60)
    verified = codec().verify(token, expected_type="access")
    assert verified == claims
    assert verified.user_id == 7 and verified.session_id == "s1"


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenCodec("short", issuer="lab", audience="api")


def _forge(payload_overrides: dict[str, object], *, key: str = KEY, alg: str = "HS256") -> str:
    now = int(time.time())
    payload: dict[str, object] = {
        "sub": "7",
        "sid": "s1",
        "jti": "j",
        "typ": "access",
        "iss": "lab",
        "aud": "api",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
    }
    payload.update(payload_overrides)
    return jwt.encode(payload, key if alg != "none" else None, algorithm=alg)


@pytest.mark.parametrize(
    ("token_factory", "reason"),
    [
        (lambda: _forge({}, alg="none"), "alg none"),
        (lambda: _forge({}, key=OTHER_KEY), "wrong key"),
        (lambda: _forge({"exp": int(time.time()) - 60}), "expired"),
        (lambda: _forge({"nbf": int(time.time()) + 600}), "not yet valid"),
        (lambda: _forge({"aud": "someone-else"}), "wrong audience"),
        (lambda: _forge({"iss": "evil"}), "wrong issuer"),
        (lambda: _forge({"typ": "refresh"}), "refresh used as access"),
        (lambda: "not.a.token", "garbage"),
    ],
)
def test_bad_tokens_are_unauthorized(token_factory: object, reason: str) -> None:
    token = token_factory()  # type: ignore[operator]
    with pytest.raises(Unauthorized):
        codec().verify(token, expected_type="access")


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = codec()
    token, _ = tokens.issue(user_id=7, session_id="s1", token_type="access", ttl_s=60)
    tokens.verify(token, expected_type="access")  # verified in full, now remembered
    later = time.time() + 60 + 6  # past exp and the 5 s leeway
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token, expected_type="access")


def test_a_remembered_token_keeps_its_type() -> None:
    tokens = codec()
    refresh, _ = tokens.issue(user_id=7, session_id="s1", token_type="refresh", ttl_s=60)
    tokens.verify(refresh, expected_type="refresh")
    with pytest.raises(Unauthorized, match="expected an access token"):
        tokens.verify(refresh, expected_type="access")


def test_an_altered_copy_of_a_remembered_token_is_checked_in_full() -> None:
    tokens = codec()
    token, _ = tokens.issue(user_id=7, session_id="s1", token_type="access", ttl_s=60)
    tokens.verify(token, expected_type="access")
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged_payload = jwt.encode({**claims, "sub": "8"}, OTHER_KEY, algorithm="HS256").split(".")[1]
    for forged in (f"{header}.{forged_payload}.{signature}", token + "x", token[:-1]):
        with pytest.raises(Unauthorized):
            tokens.verify(forged, expected_type="access")


def test_the_remembered_tokens_are_bounded() -> None:
    from service_common import tokens as module

    codec_ = codec()
    issued = [
        codec_.issue(user_id=i, session_id="s", token_type="access", ttl_s=60)[0]
        for i in range(1, module.VERIFIED_CACHE_SIZE + 3)
    ]
    for token in issued:
        codec_.verify(token, expected_type="access")
    assert len(codec_._verified) == module.VERIFIED_CACHE_SIZE
    assert issued[0] not in codec_._verified and issued[-1] in codec_._verified
    assert codec_.verify(issued[0], expected_type="access").user_id == 1  # verified again


@pytest.mark.parametrize("claim", ["exp", "sid", "aud", "typ"])
def test_token_missing_a_required_claim_is_unauthorized(claim: str) -> None:
    claims = jwt.decode(_forge({}), options={"verify_signature": False})
    del claims[claim]
    with pytest.raises(Unauthorized):
        codec().verify(jwt.encode(claims, KEY, algorithm="HS256"), expected_type="access")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_malformed_authorization_header_is_unauthorized(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer_token(header)


def test_bearer_token_is_extracted() -> None:
    assert bearer_token("Bearer abc.def") == "abc.def"
