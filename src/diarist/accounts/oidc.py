"""Signing in with an OpenID Connect provider, the relying party's side (OpenID Connect Core
1.0, authorization code flow with PKCE): the provider's metadata from its discovery document,
the authorization request with state, nonce and an S256 code challenge, the code exchanged at
the token endpoint (Authlib's client) and the ID token checked against the provider's keys
(joserfc): signature, issuer, audience, authorized party, expiry, nonce.

What the browser carries between leaving for the provider and coming back (`Flow`) is sealed
by the server (`Keyring.seal`) and expires; the callback refuses a state that is not the one
it sealed. Nothing here logs a code, token or claim.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import structlog
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from diarist.accounts.errors import (
    OidcFlowInvalid,
    OidcProviderRefused,
    OidcProviderUnavailable,
    OidcProviderUnknown,
    OidcTokenInvalid,
)
from diarist.accounts.secrets import Keyring
from diarist.config import OidcProvider, OidcSettings, Settings

_log = structlog.get_logger("diarist.accounts.oidc")

# Asymmetric signatures only: never `none`, never a MAC keyed with the client secret.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA")  # fmt: skip
METADATA_TTL_S = 3600.0
# A token signed with a key we do not hold yet (the provider rotated): fetch the keys again,
# at most this often.
KEYS_REFRESH_S = 60.0
CLOCK_LEEWAY_S = 60
_SEAL = "oidc-flow"
_MAX_DOCUMENT_BYTES = 512 * 1024


@dataclass(frozen=True)
class Flow:
    """One sign-in on its way through the provider, as the browser holds it (sealed)."""

    provider: str
    state: str
    nonce: str
    verifier: str
    # Where to go after signing in (a path on this site), or "" when linking to the account
    # already signed in.
    next: str
    link: bool
    started: float

    def sealed(self, keyring: Keyring) -> str:
        return keyring.seal(_SEAL, json.dumps(asdict(self)).encode())

    @classmethod
    def opened(cls, keyring: Keyring, sealed: str | None, *, max_age_s: float) -> Flow:
        """The flow of a sealed value, or OidcFlowInvalid (forged, someone else's, expired)."""
        payload = keyring.unseal(_SEAL, sealed) if sealed else None
        if payload is None:
            raise OidcFlowInvalid()
        try:
            flow = cls(**json.loads(payload))
        except (TypeError, ValueError):  # sealed by an older diarist
            raise OidcFlowInvalid() from None
        if not 0 <= time.time() - flow.started <= max_age_s:
            raise OidcFlowInvalid()
        return flow


@dataclass(frozen=True)
class Identity:
    """Who a provider says signed in, from a checked ID token (and its userinfo)."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass
class _Known:
    metadata: dict[str, Any]
    fetched: float
    keys: KeySet | None = None
    keys_fetched: float = 0.0


@dataclass
class Providers:
    """The configured providers, their metadata and keys fetched on first use and kept for an
    hour (one copy per process)."""

    all_settings: Settings
    # Tests hand in a transport; production uses httpx's own.
    transport: httpx.AsyncBaseTransport | None = None
    _known: dict[str, _Known] = field(default_factory=dict)

    @property
    def settings(self) -> OidcSettings:
        return self.all_settings.oidc

    def configured(self, name: str) -> OidcProvider:
        provider = self.settings.providers.get(name)
        if provider is None:
            raise OidcProviderUnknown()
        return provider

    def buttons(self) -> list[tuple[str, str]]:
        """(name, label) of each provider, for the sign-in page."""
        return [(name, p.label or name) for name, p in sorted(self.settings.providers.items())]

    async def start(
        self, name: str, redirect_uri: str, *, next: str, link: bool
    ) -> tuple[str, Flow]:
        """The provider's authorization URL to send the browser to, and the flow to seal."""
        provider = self.configured(name)
        metadata = await self._metadata(name, provider)
        flow = Flow(
            provider=name,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters (RFC 7636: 43 to 128)
            next=next,
            link=link,
            started=time.time(),
        )
        async with self._client(provider, metadata, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=flow.state,
                code_verifier=flow.verifier,
                nonce=flow.nonce,
            )
        return url, flow

    async def finish(self, flow: Flow, code: str, redirect_uri: str) -> Identity:
        """The code exchanged for tokens, the ID token checked: who signed in."""
        provider = self.configured(flow.provider)
        metadata = await self._metadata(flow.provider, provider)
        async with self._client(provider, metadata, redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=flow.verifier
                )
            except OAuthError as exc:  # invalid_grant: a used, expired or foreign code
                _log.info("oidc_token_refused", provider=flow.provider, error=exc.error)
                raise OidcTokenInvalid() from None
            except (httpx.HTTPError, ValueError) as exc:
                _log.warning("oidc_token_failed", provider=flow.provider, error=type(exc).__name__)
                raise OidcProviderUnavailable() from None
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise OidcTokenInvalid()
            claims = await self._checked_claims(flow, provider, metadata, id_token)
            extra: dict[str, Any] = {}
            if "email" not in claims and metadata.get("userinfo_endpoint"):
                extra = await self._userinfo(client, flow.provider, metadata, claims["sub"])
        return _identity(flow.provider, provider, metadata["issuer"], {**extra, **claims})

    def _client(
        self, provider: OidcProvider, metadata: dict[str, Any], redirect_uri: str
    ) -> AsyncOAuth2Client:
        secret = provider.client_secret.get_secret_value() if provider.client_secret else None
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        method = "none"
        if secret is not None:
            basic = "client_secret_basic" in methods or "client_secret_post" not in methods
            method = "client_secret_basic" if basic else "client_secret_post"
        return AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=secret,
            token_endpoint_auth_method=method,
            scope=" ".join(provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.settings.timeout_s,
            transport=self.transport,
        )

    async def _checked_claims(
        self, flow: Flow, provider: OidcProvider, metadata: dict[str, Any], id_token: str
    ) -> dict[str, Any]:
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [name for name in SIGNING_ALGORITHMS if name in offered]
        try:
            decoded = await self._decoded(flow.provider, provider, metadata, id_token, algorithms)
            claims = decoded.claims
            jwt.JWTClaimsRegistry(
                leeway=CLOCK_LEEWAY_S,
                iss={"essential": True, "value": metadata["issuer"]},
                sub={"essential": True},
                aud={"essential": True, "value": provider.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": flow.nonce},
            ).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            _log.info("oidc_id_token_refused", provider=flow.provider, error=type(exc).__name__)
            raise OidcTokenInvalid() from None
        audience = claims["aud"]
        if (
            isinstance(audience, list)
            and len(audience) > 1
            and (claims.get("azp") != provider.client_id)
        ):
            raise OidcTokenInvalid()
        subject = claims["sub"]
        if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
            raise OidcTokenInvalid()
        return dict(claims)

    async def _decoded(
        self,
        name: str,
        provider: OidcProvider,
        metadata: dict[str, Any],
        id_token: str,
        algorithms: list[str],
    ) -> jwt.Token:
        known = self._known[name]
        if known.keys is None:
            await self._fetch_keys(known)
        assert known.keys is not None
        try:
            return jwt.decode(id_token, known.keys, algorithms=algorithms)
        except (JoseError, ValueError):
            if time.monotonic() - known.keys_fetched < KEYS_REFRESH_S:
                raise
        await self._fetch_keys(known)  # perhaps a key it started using after our last fetch
        return jwt.decode(id_token, known.keys, algorithms=algorithms)

    async def _fetch_keys(self, known: _Known) -> None:
        document = await self._document(known.metadata["jwks_uri"])
        try:
            known.keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise OidcProviderUnavailable() from None
        known.keys_fetched = time.monotonic()

    async def _userinfo(
        self, client: AsyncOAuth2Client, name: str, metadata: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        """The userinfo claims, when the ID token lacks the address (RFC: only if its `sub`
        is the ID token's)."""
        try:
            response = await client.get(metadata["userinfo_endpoint"])
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("oidc_userinfo_failed", provider=name, error=type(exc).__name__)
            raise OidcProviderUnavailable() from None
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise OidcTokenInvalid()
        return {key: info[key] for key in ("email", "email_verified", "name") if key in info}

    async def _metadata(self, name: str, provider: OidcProvider) -> dict[str, Any]:
        known = self._known.get(name)
        if known is not None and time.monotonic() - known.fetched < METADATA_TTL_S:
            return known.metadata
        issuer = provider.issuer.rstrip("/")
        metadata = await self._document(f"{issuer}/.well-known/openid-configuration")
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if any(not isinstance(metadata.get(key), str) for key in needed) or (
            metadata["issuer"].rstrip("/") != issuer
        ):
            _log.warning("oidc_discovery_unusable", provider=name)
            raise OidcProviderUnavailable()
        self._known[name] = _Known(metadata, time.monotonic())
        return metadata

    async def _document(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.timeout_s, transport=self.transport
            ) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > _MAX_DOCUMENT_BYTES:
                raise ValueError("document too large")
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("oidc_fetch_failed", error=type(exc).__name__)
            raise OidcProviderUnavailable() from None
        if not isinstance(document, dict):
            raise OidcProviderUnavailable()
        return document


def provider_error(error: str | None) -> OidcProviderRefused:
    """The provider sent the browser back with an error instead of a code."""
    cancelled = error in {"access_denied", "login_required", "consent_required"}
    return OidcProviderRefused(cancelled=cancelled)


def _identity(name: str, provider: OidcProvider, issuer: str, claims: dict[str, Any]) -> Identity:
    email = claims.get("email")
    email = email.strip() if isinstance(email, str) and email.strip() else None
    verified = claims.get("email_verified")
    # Some providers send the claim as a string.
    confirmed = verified is True or verified == "true" or (provider.trust_email and email)
    name_claim = claims.get("name") or claims.get("preferred_username")
    return Identity(
        provider=name,
        issuer=issuer,
        subject=claims["sub"],
        email=email,
        email_verified=bool(confirmed) and email is not None,
        name=name_claim.strip()[:200]
        if isinstance(name_claim, str) and name_claim.strip()
        else None,
    )
