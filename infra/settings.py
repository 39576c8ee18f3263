"""Settings from the environment (and an optional .env file), read once at the edges.

Nothing under ``domain/`` or ``workflows/`` reads these: the composition root
(``worker.py``), the API and the CLI pass what is needed down explicitly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


#: What the process is: ``production`` (the default) refuses to start without real keys
#: (infra/secure_config.py); ``dev`` (``priorauth dev``) and ``test`` (the test suite) allow
#: the development shortcuts: no encryption, the public MemberRef key, plain-http webhooks,
#: open API docs.
Environment = Literal["dev", "test", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # PRIORAUTH_ENV: dev | test | production (default: production, the secure one).
    priorauth_env: Environment = "production"

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "prior-auth"
    # TLS (mTLS with a client certificate) to the Temporal frontend: PEM file paths.
    # TEMPORAL_TLS=true with no CA uses the system's trust store; a client cert and key
    # go together (infra/temporal.py, README "Security").
    temporal_tls: bool = False
    temporal_tls_server_ca_cert: Path | None = None
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_tls_server_name: str | None = None

    # PostgreSQL: when unset, `priorauth dev` and the tests start an embedded server.
    # DATABASE_URL is the runtime connection of the worker and the API: a login that is a
    # member of DATABASE_RUNTIME_ROLE (rows in, never out; README, Security).
    database_url: str | None = None
    # The schema owner's connection, which runs migrations and grants; default DATABASE_URL
    # (the dev stack and the tests, where one superuser does both).
    migration_database_url: str | None = None
    # The NOLOGIN group role the migrations grant the runtime privileges to.
    database_runtime_role: str = Field(
        default="priorauth_runtime", pattern=r"^[a-z_][a-z0-9_]{0,62}$"
    )
    db_pool_min: int = 1
    db_pool_max: int = 10

    # Local state of the dev stack (Temporal SQLite file, embedded PostgreSQL).
    data_dir: Path = PROJECT_ROOT / ".data"

    # HTTP API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Static bearer tokens, one per person or system (api/auth.py; README, Security):
    # "token=subject:role+role,…" (or the older "token:role", subject role:<hash prefix>);
    # roles: intake, claims, clinical, reviewer, read-only, admin. Tokens of 32+ characters.
    api_tokens: str = ""
    # The same entries in a JSON file: [{"token", "subject", "roles": [...]}, …].
    api_tokens_file: Path | None = None

    # OIDC/JWT bearer tokens for people: on when OIDC_JWKS_URL is set (then issuer and
    # audience are required). Signature, exp, nbf, iss and aud are checked.
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_subject_claim: str = "sub"
    # A claim holding a list of our role names (dotted for nested: realm_access.roles).
    oidc_roles_claim: str = "roles"
    # Asymmetric algorithms only: "none" and HS* are refused at start.
    oidc_algorithms: str = "RS256"
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # Logging: "auto" = JSON unless stdout is a terminal.
    log_level: str = "INFO"
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")

    # Keyed hash for MemberRef (search attribute and ledger key); never the member id itself.
    member_ref_key: str = "dev-only-member-ref-key-change-me"

    # Payload encryption: "keyid:base64key,keyid:base64key"; the first encrypts. "none":
    # no encryption, chosen (dev and test only). Empty: `priorauth dev` makes a key for its
    # data dir; a dev or test worker and API run without one and warn (infra/codec.py);
    # production refuses both (infra/secure_config.py).
    codec_keys: str = ""
    # With keys, a payload that is not encrypted is refused (the codec and the codec
    # server). true: read them anyway, to drain histories written before encryption
    # was turned on (a migration step, warned about at start; infra/codec.py).
    codec_allow_plaintext: bool = False
    # Lifetime of a codec browser session (absolute, never extended; api/codec_server.py).
    codec_session_hours: float = Field(default=8, gt=0, le=24)
    # More Temporal UI origins allowed to call the codec server (comma-separated), beyond
    # localhost and 127.0.0.1 on :8233 and :8080; `priorauth dev` adds its UI's.
    codec_ui_origins: str = ""
    # Lifetime of a reviewer workbench session (absolute, never extended; api/workbench/).
    workbench_session_hours: float = Field(default=8, gt=0, le=24)
    # The Temporal UI the workbench links each case to (`priorauth dev` sets its own).
    temporal_ui_url: str = "http://localhost:8233"

    # Notifications: "log" (default) or "webhook" (HTTP POST to notify_webhook_url).
    notify_channel: str = Field(default="log", pattern="^(log|webhook)$")
    notify_webhook_url: str | None = None
    # HMAC-SHA256 key signing every webhook delivery (X-Priorauth-Signature; README).
    notify_webhook_secret: str | None = None
    notify_max_attempts: int = 5

    # Case clocks (DESIGN.md, Case statuses; POLICY.md, Decision clocks and appeals). Unset,
    # each comes from the case's policy data (`lines_of_business`, `case_defaults`); set,
    # it overrides the policy's for every case started from then on (worker.py's case_config).
    pend_deadline_days: int | None = Field(default=None, gt=0)
    decision_clock_standard_hours: int | None = Field(default=None, gt=0)
    decision_clock_expedited_hours: int | None = Field(default=None, gt=0)
    escalate_before_hours: int = 12
    appeal_window_days_commercial: int | None = Field(default=None, ge=0)
    appeal_window_days_medicaid: int | None = Field(default=None, ge=0)
    appeal_window_days_medicare_advantage: int | None = Field(default=None, ge=0)
    # Timely filing of claims (POLICY.md, Claims run-out).
    timely_filing_days_commercial: int | None = Field(default=None, ge=0)
    timely_filing_days_medicaid: int | None = Field(default=None, ge=0)
    timely_filing_days_medicare_advantage: int | None = Field(default=None, ge=0)
    # Days before a period's end that a renewal reminder goes out, comma-separated ("14,7").
    renewal_reminder_days: str | None = None
    # Lines of business whose engine denials are issued without a reviewer (none by default).
    auto_deny_lines_of_business: str = ""

    @property
    def is_dev(self) -> bool:
        """Development shortcuts allowed: ``priorauth dev`` and the test suite."""
        return self.priorauth_env in ("dev", "test")


@lru_cache
def get_settings() -> Settings:
    return Settings()
