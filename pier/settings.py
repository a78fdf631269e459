"""Every setting Pier reads, in one typed table.

Precedence: a CLI flag beats an environment variable (``PIER_<NAME>``) beats the default.
Settings are read once, at the edge (the CLI), and passed down as a :class:`Settings` object.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "PIER_" + self.name.upper()


MB = 1024 * 1024
SMTP_TLS = ("none", "starttls", "tls")  # the values smtp_tls may take

SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address the HTTP server listens on."),
    Setting("port", int, 8000, "Port the HTTP server listens on (0 picks a free one)."),
    Setting("data_dir", Path, "~/.pier", "Directory holding the database, files, models and logs."),
    Setting(
        "database",
        str,
        "",
        "Database URL (sqlite:///… or postgresql://…). Empty: SQLite at DATA_DIR/pier.db.",
    ),
    Setting(
        "queue",
        str,
        "",
        "Where accepted jobs wait for a worker: empty for an in-process queue, or "
        "redis://HOST:PORT/DB "
        "for Redis Streams.",
    ),
    Setting(
        "files",
        str,
        "",
        "Where file bytes and model version archives are kept: empty for DATA_DIR/files, a "
        "directory, or s3://BUCKET/PREFIX for an S3-compatible store (endpoint, region and "
        "credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).",
    ),
    Setting("public_url", str, "", "Base URL used in links Pier returns. Empty: http://HOST:PORT."),
    Setting(
        "admin_token",
        str,
        "",
        "API token of the admin account. Empty: one is generated on first start and printed.",
    ),
    Setting(
        "metrics_token",
        str,
        "",
        "A token that may read /metrics besides the admin's (for a Prometheus scraper). Empty: "
        "only the admin token.",
    ),
    Setting(
        "workers",
        int,
        1,
        "Model processes this server runs per version; 0 runs no models (an API process).",
    ),
    Setting(
        "lease_seconds",
        float,
        15.0,
        "Seconds a process holds a job without renewing; a running job whose process stops "
        "renewing is failed after this long.",
    ),
    Setting("prediction_timeout", float, 1800.0, "Seconds a prediction may run before it fails."),
    Setting(
        "cancel_grace",
        float,
        3.0,
        "Seconds a canceled prediction may take to stop before its process is killed.",
    ),
    Setting(
        "setup_retry_after",
        float,
        30.0,
        "Seconds before a model whose setup failed is set up "
        "again; predictions in between fail at once with the setup error.",
    ),
    Setting("max_request_bytes", int, 110 * MB, "Largest request body accepted (413 above it)."),
    Setting("max_file_bytes", int, 100 * MB, "Largest uploaded or downloaded input file."),
    Setting(
        "max_push_bytes",
        int,
        2048 * MB,
        "Largest model archive `pier push` may upload (413 above it).",
    ),
    Setting(
        "max_push_unpacked_bytes",
        int,
        8192 * MB,
        "Most bytes a pushed model archive may unpack to (413 above it).",
    ),
    Setting(
        "max_weights_bytes",
        int,
        65536 * MB,
        "Largest weights file a model's COG_WEIGHTS URL may download.",
    ),
    Setting(
        "file_expiry_seconds",
        float,
        86400.0,
        "Seconds an uploaded file is kept. Then it is no longer served and its bytes are deleted "
        "(within a minute). Prediction outputs live as long as their prediction.",
    ),
    Setting(
        "max_log_bytes",
        int,
        1 * MB,
        "Most bytes of logs kept per prediction (at least 1024); past it the earliest lines are "
        "dropped and the log starts with a line saying how much.",
    ),
    Setting("builtin_models", bool, True, "Register the built-in models on start."),
    Setting(
        "github_client_id",
        str,
        "",
        'Client ID of a GitHub OAuth app, for "Sign in with GitHub" (callback URL: '
        "PUBLIC_URL/auth/github/callback). Empty: no GitHub sign-in.",
    ),
    Setting("github_client_secret", str, "", "Client secret of that GitHub OAuth app."),
    Setting(
        "github_url",
        str,
        "https://github.com",
        "Where GitHub signs people in (a GitHub Enterprise server's address, for one).",
    ),
    Setting(
        "github_api_url",
        str,
        "https://api.github.com",
        "GitHub's REST API (https://HOST/api/v3 on GitHub Enterprise).",
    ),
    Setting(
        "oidc_issuer",
        str,
        "",
        "Issuer URL of an OpenID Connect provider (its ISSUER/.well-known/openid-configuration "
        'is read), for "Sign in with ..." (callback URL: PUBLIC_URL/auth/oidc/callback). '
        "Empty: none.",
    ),
    Setting("oidc_client_id", str, "", "Client ID registered at the OpenID Connect provider."),
    Setting("oidc_client_secret", str, "", "Client secret registered at that provider."),
    Setting(
        "oidc_name",
        str,
        "",
        "Name on the OpenID Connect sign-in button. Empty: the issuer's host name.",
    ),
    Setting(
        "allow_signup",
        str,
        "",
        "Who may make an account by signing in with GitHub or OpenID Connect: a comma-separated "
        "list of github:USER, github-org:ORG, email:DOMAIN (a verified address in that domain) "
        "or * (anyone). Empty: nobody new (people who already have an account still sign in).",
    ),
    Setting(
        "session_seconds",
        float,
        14 * 86400.0,
        "Seconds a playground sign-in lasts (14 days); then the browser signs in again.",
    ),
    Setting(
        "env_cache_bytes",
        int,
        20 * 1024 * MB,
        "Most bytes of model environments kept under DATA_DIR/envs; past it the least recently "
        "used ones that no model process is using are removed.",
    ),
    Setting(
        "env_torch_backend",
        str,
        "auto",
        "Which PyTorch build model environments get: auto (CPU wheels, or CUDA ones for a "
        "model with gpu: true on a machine with an NVIDIA driver), none (whatever the package "
        "index has), or a uv --torch-backend value such as cpu or cu126.",
    ),
    Setting(
        "env_constraints",
        str,
        "",
        "A pip constraints file applied when resolving every model environment (for example "
        "torch==2.13.0+cpu). Empty: none.",
    ),
    Setting(
        "allow_private_webhooks",
        bool,
        False,
        "Let webhooks go to loopback and private addresses (off: a user cannot make Pier call "
        "into its own network).",
    ),
    Setting(
        "allow_private_input_urls",
        bool,
        False,
        "Let file inputs be downloaded from loopback and private addresses (off: a user cannot "
        "make Pier fetch from its own network).",
    ),
    Setting(
        "max_connections",
        int,
        1000,
        "Client connections served at once; one more is answered 503 and closed.",
    ),
    Setting(
        "header_timeout",
        float,
        15.0,
        "Seconds a client has to send a request's line and headers, and the longest it may "
        "pause in the middle of a request body, before its connection is closed.",
    ),
    Setting(
        "keepalive_timeout",
        float,
        5.0,
        "Seconds an idle kept-alive connection stays open between requests.",
    ),
    Setting(
        "max_queued_per_account",
        int,
        100,
        "Most predictions one account may have waiting to start; a create past it is answered "
        "429 with Retry-After. 0: no limit.",
    ),
    Setting(
        "create_rate_per_minute",
        int,
        600,
        "Prediction creates one account may make per minute (bursts up to that many at once); "
        "past it a create is answered 429 with Retry-After. 0: no limit.",
    ),
    Setting("log_level", str, "info", "Server log level (debug, info, warning, error)."),
    Setting(
        "billing_hold_seconds",
        float,
        60.0,
        "For models priced per second: how many seconds of running a prediction's credit hold "
        "covers at first (more when the version's recent runs took longer), and how much more "
        "it is extended by each time a running prediction gets near it.",
    ),
    Setting(
        "api_data_retention",
        float,
        3600.0,
        "Seconds an API prediction keeps its input, output, logs and files after it ends (an "
        "hour, as on Replicate); then they are removed and it says data_removed: true. An "
        "account may choose its own period. Playground predictions are kept until deleted.",
    ),
    Setting(
        "gpu_hardware",
        str,
        "gpu",
        "The hardware class (the name prices are set for) of work run by a process started "
        "with GPUs; everything else runs on the class cpu.",
    ),
    Setting(
        "smtp_host",
        str,
        "",
        "Mail server that billing alerts are sent through. Empty: no alert e-mail (webhook "
        "alerts still go out).",
    ),
    Setting(
        "smtp_port",
        int,
        0,
        "Port of the mail server. 0: the usual one for smtp_tls (25 none, 587 starttls, 465 tls).",
    ),
    Setting("smtp_user", str, "", "User name to log in to the mail server. Empty: no login."),
    Setting("smtp_password", str, "", "Password to log in to the mail server."),
    Setting(
        "smtp_tls",
        str,
        "starttls",
        "How mail to the mail server is encrypted: starttls (plain connection upgraded with "
        "STARTTLS, which is then required), tls (TLS from the first byte) or none.",
    ),
    Setting("mail_from", str, "pier@localhost", "Sender address of alert e-mail."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _convert(setting: Setting, raw: Any) -> Any:
    if setting.type is bool and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{setting.env} must be true or false, not {raw!r}")
    try:
        value = setting.type(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{setting.name} must be a {setting.type.__name__}: {raw!r}") from exc
    if isinstance(value, Path):
        value = value.expanduser()
    return value


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("~/.pier").expanduser()
    database: str = ""
    queue: str = ""
    files: str = ""
    public_url: str = ""
    admin_token: str = ""
    metrics_token: str = ""
    workers: int = 1
    lease_seconds: float = 15.0
    prediction_timeout: float = 1800.0
    cancel_grace: float = 3.0
    setup_retry_after: float = 30.0
    max_request_bytes: int = 110 * MB
    max_file_bytes: int = 100 * MB
    max_push_bytes: int = 2048 * MB
    max_push_unpacked_bytes: int = 8192 * MB
    max_weights_bytes: int = 65536 * MB
    file_expiry_seconds: float = 86400.0
    max_log_bytes: int = 1 * MB
    builtin_models: bool = True
    github_client_id: str = ""
    github_client_secret: str = ""
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = ""
    allow_signup: str = ""
    session_seconds: float = 14 * 86400.0
    env_cache_bytes: int = 20 * 1024 * MB
    env_torch_backend: str = "auto"
    env_constraints: str = ""
    allow_private_webhooks: bool = False
    allow_private_input_urls: bool = False
    max_connections: int = 1000
    header_timeout: float = 15.0
    keepalive_timeout: float = 5.0
    max_queued_per_account: int = 100
    create_rate_per_minute: int = 600
    log_level: str = "info"
    billing_hold_seconds: float = 60.0
    api_data_retention: float = 3600.0
    gpu_hardware: str = "gpu"
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "starttls"
    mail_from: str = "pier@localhost"

    def __post_init__(self) -> None:
        if self.smtp_tls not in SMTP_TLS:
            raise ValueError(f"smtp_tls must be none, starttls or tls, not {self.smtp_tls!r}")

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Build settings from CLI overrides (None values ignored), then env, then defaults."""
        env = os.environ if env is None else env
        overrides = overrides or {}
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if overrides.get(setting.name) is not None:
                values[setting.name] = _convert(setting, overrides[setting.name])
            elif env.get(setting.env):
                values[setting.name] = _convert(setting, env[setting.env])
            else:
                values[setting.name] = _convert(setting, setting.default)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.data_dir / 'pier.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def describe(name: str) -> Setting:
    return _BY_NAME[name]
