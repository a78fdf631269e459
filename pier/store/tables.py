"""The whole storage layout at a glance: every table and column Pier keeps.

Dialect-neutral SQLAlchemy Core (SQLite and PostgreSQL). JSON columns hold the parts of
objects that the API returns as-is. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

UTC_TS = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(16), nullable=False, server_default="user"),
    sa.Column("webhook_secret", sa.String(100), nullable=False),
    # Seconds this account's API predictions keep their data; NULL: the api_data_retention setting.
    sa.Column("data_retention_seconds", sa.Float, nullable=True),
    sa.Column("created_at", UTC_TS, nullable=False),
    # A verified address (from the sign-in provider or `pier accounts create --email`); alerts
    # are mailed to it. `is_admin`: may see the cluster, set prices and add credit.
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    # The queue priority of its predictions: high, normal or low (pier.queue.PRIORITIES).
    sa.Column("priority", sa.String(8), nullable=False, server_default="normal"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    # An optional monthly spend limit of this token, and what it has spent and holds this month
    # (guarded like the account's balance row).
    sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True),
    sa.Column("month", sa.String(7), nullable=False, server_default=""),
    sa.Column("month_spent_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("held_micros", sa.BigInteger, nullable=False, server_default="0"),
    # "api" (made by a person or the CLI, lasts until revoked) or "session" (a playground
    # sign-in, ends at `expires_at`). A revoked token stays listed nowhere and signs in nobody.
    sa.Column("kind", sa.String(16), nullable=False, server_default="api"),
    sa.Column("expires_at", UTC_TS, nullable=True),
    sa.Column("revoked_at", UTC_TS, nullable=True),
    sa.Column("last_used_at", UTC_TS, nullable=True),  # written at most once a minute
    # A queue priority for this token's predictions instead of its account's; NULL: the account's.
    sa.Column("priority", sa.String(8), nullable=True),
    sa.Index("ix_tokens_account", "account_id", "created_at"),
)

login_codes = sa.Table(
    "login_codes",
    metadata,
    sa.Column("code_sha256", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("expires_at", UTC_TS, nullable=False),
    sa.Column("used_at", UTC_TS, nullable=True),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),
    sa.Column("kind", sa.String(16), nullable=False, server_default="other"),
    sa.Column("readme", sa.Text, nullable=True),
    sa.Column("cover_image", sa.String(300), nullable=True),
    sa.Column("example_input", sa.JSON, nullable=True),
    sa.Column("default_example_id", sa.String(32), nullable=True),
    sa.Column("latest_version_id", sa.String(64), nullable=True),
    sa.Column("run_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.UniqueConstraint("owner", "name", name="uq_models_owner_name"),
    # Set through POST/PATCH /v1/models: the hardware class it is meant to run on (one of
    # GET /v1/hardware; NULL: none chosen) and Replicate's links (an external cover image
    # is used when the model directory has none).
    sa.Column("hardware", sa.String(64), nullable=True),
    sa.Column("github_url", sa.Text, nullable=True),
    sa.Column("paper_url", sa.Text, nullable=True),
    sa.Column("license_url", sa.Text, nullable=True),
    sa.Column("cover_image_url", sa.Text, nullable=True),
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("model_id", sa.String(32), sa.ForeignKey("models.id"), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("predict_ref", sa.String(300), nullable=False),
    sa.Column("train_ref", sa.String(300), nullable=True),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("openapi_schema", sa.JSON, nullable=False),
    sa.Column("cog_version", sa.String(32), nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    # What its environment is built from (pier.envs.EnvSpec); NULL: Pier's own environment.
    sa.Column("env", sa.JSON(none_as_null=True), nullable=True),
    # Inputs typed `T | None` without a default: a request must name them, null allowed (the
    # schema cannot say so). NULL: added before this was recorded, nothing checked.
    sa.Column("required_nullable", sa.JSON(none_as_null=True), nullable=True),
    # Where it came from: {"kind": "push"} or {"kind": "training", "training_id",
    # "base_version", "input", "code_version"} (code_version: the pushed version whose archive
    # holds its code). NULL: added before this was recorded, a push.
    sa.Column("source", sa.JSON(none_as_null=True), nullable=True),
    # The file store key of the weights setup(weights) gets (a training's output), or NULL.
    sa.Column("weights", sa.String(500), nullable=True),
)

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("model_id", sa.String(32), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("input", sa.JSON, nullable=False),
    sa.Column("secret_input", sa.JSON(none_as_null=True), nullable=True),  # NULL once ended
    sa.Column("output", sa.JSON, nullable=True),
    sa.Column("logs", sa.Text, nullable=False, server_default=""),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("progress", sa.JSON, nullable=True),
    sa.Column("source", sa.String(8), nullable=False, server_default="api"),  # web|api|example
    sa.Column("webhook", sa.Text, nullable=True),
    sa.Column("webhook_events_filter", sa.JSON, nullable=True),
    sa.Column("stream_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("started_at", UTC_TS, nullable=True),
    sa.Column("completed_at", UTC_TS, nullable=True),
    # Which process holds the job, until when (renewed while it runs), and a cancel asked for
    # by any process, for the one that runs it.
    sa.Column("worker_id", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UTC_TS, nullable=True),
    sa.Column("cancel_requested_at", UTC_TS, nullable=True),
    # The prediction this one was tweaked from (same account), and the queue lane it waits in
    # (pier.queue.LANES): 0 to 2 for people by priority, 3 for background work such as the
    # first-start examples.
    sa.Column("tweaked_from", sa.String(32), nullable=True),
    sa.Column("lane", sa.Integer, nullable=False, server_default="1"),
    # The request's `context` (string keys and values), handed to the model's current_scope().
    sa.Column("context", sa.JSON(none_as_null=True), nullable=True),
    # "prediction" or "training" (pier.jobs.Kind), and a training's destination model (its id).
    sa.Column("kind", sa.String(16), nullable=False, server_default="prediction"),
    sa.Column("destination", sa.String(32), nullable=True),
    # The deployment it was made through ("owner/name"), if any.
    sa.Column("deployment", sa.String(200), nullable=True),
    # When the retention period removed its input, output, logs and files (API predictions).
    sa.Column("data_removed_at", UTC_TS, nullable=True),
    sa.Index("ix_predictions_account_created", "account_id", "created_at", "id"),
    sa.Index("ix_predictions_account_source", "account_id", "source", "created_at"),
    sa.Index("ix_predictions_status_lease", "status", "lease_expires_at"),
    sa.Index("ix_predictions_status", "status"),
    sa.Index("ix_predictions_account_status", "account_id", "status"),
    sa.Index("ix_predictions_account_kind", "account_id", "kind", "created_at", "id"),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("prediction_id", sa.String(32), nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(200), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("md5", sa.String(32), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("public_token", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("expires_at", UTC_TS, nullable=True),
    sa.Index("ix_files_account_created", "account_id", "created_at"),
    sa.Index("ix_files_expires", "expires_at"),
)

# The outbox of `completed` webhooks: a row is written in the same transaction as the
# prediction's final state, so a crash can never end a prediction without its webhook. The id is
# the `webhook-id` header, the same on every attempt. `next_attempt_at` is NULL once delivered or
# given up.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("prediction_id", sa.String(32), nullable=False),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTC_TS, nullable=True),
    sa.Column("delivered_at", UTC_TS, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Index("ix_webhook_deliveries_next", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_prediction", "prediction_id"),
    sa.Index("ix_webhook_deliveries_created", "created_at"),
)

# Every running API process and worker, as its own heartbeats describe it.
processes = sa.Table(
    "processes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "serve" or "worker"
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("gpus", sa.JSON, nullable=True),
    sa.Column("models", sa.JSON, nullable=True),  # the models it serves; null: all
    sa.Column("loaded", sa.JSON, nullable=False),  # versions with a model process up
    sa.Column("running", sa.JSON, nullable=False),  # [{"id", "version", "model", "since"}]
    sa.Column("started_at", UTC_TS, nullable=False),
    sa.Column("heartbeat_at", UTC_TS, nullable=False),
    sa.Index("ix_processes_heartbeat", "heartbeat_at"),
)

# -- money: integer micro-dollars everywhere ----------------------------------------------------

# What running costs: per second of a hardware class ("cpu", a GPU kind), or for one model per
# run or per output unit instead.
prices = sa.Table(
    "prices",
    metadata,
    sa.Column("scope", sa.String(16), primary_key=True),  # "hardware" or "model"
    sa.Column("key", sa.String(200), primary_key=True),  # a hardware class, or a model id
    sa.Column("per_second_micros", sa.BigInteger, nullable=True),
    sa.Column("per_run_micros", sa.BigInteger, nullable=True),
    sa.Column("per_unit_micros", sa.BigInteger, nullable=True),
    sa.Column("unit", sa.String(32), nullable=True),
    sa.Column("updated_at", UTC_TS, nullable=False),
)

# Each account's running totals, kept equal to what its ledger entries add up to (updated in the
# same transaction as the entries). available + held is the balance; holds are reserved for
# predictions that have not ended. The guarded updates on this row are what keep two
# concurrent creates from spending the same money.
balances = sa.Table(
    "balances",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("available_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("held_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("spent_micros", sa.BigInteger, nullable=False, server_default="0"),  # all time
    sa.Column("month", sa.String(7), nullable=False, server_default=""),  # "YYYY-MM"
    sa.Column("month_spent_micros", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True),
    sa.Column("low_balance_micros", sa.BigInteger, nullable=True),
    sa.Column("alert_webhook", sa.Text, nullable=True),
    sa.Column("updated_at", UTC_TS, nullable=False),
)

# The money reserved for one prediction: opened when it is accepted, grown while it runs,
# settled once when it ends (the cost charged, the rest given back).
holds = sa.Table(
    "holds",
    metadata,
    sa.Column("prediction_id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("token_id", sa.String(32), nullable=True),
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # "open" or "settled"
    sa.Column("cost_micros", sa.BigInteger, nullable=True),
    sa.Column("price", sa.JSON, nullable=False),  # what the cost is computed from
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("settled_at", UTC_TS, nullable=True),
    sa.Index("ix_holds_status", "status", "created_at"),
)

# The ledger: append-only, double-entry. Each row moves `amount_micros` (> 0) from the ledger
# account `debit` to `credit`; ledger accounts are "available:<account id>", "held:<account id>",
# "house:topups" and "house:revenue". Any balance is the sum of what came in less what went out.
ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("prediction_id", sa.String(32), nullable=True),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),  # topup, hold, release, charge
    sa.Column("debit", sa.String(80), nullable=False),
    sa.Column("credit", sa.String(80), nullable=False),
    sa.Column("amount_micros", sa.BigInteger, nullable=False),
    sa.Column("memo", sa.Text, nullable=True),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Index("ix_ledger_account_created", "account_id", "created_at", "id"),
)

# -- sign-in -----------------------------------------------------------------------------------

# Who a sign-in provider says a person is, and the account it signs into. `issuer` tells apart
# github.com from a GitHub Enterprise server, and one OpenID Connect provider from another.
identities = sa.Table(
    "identities",
    metadata,
    sa.Column("provider", sa.String(16), primary_key=True),  # "github" or "oidc"
    sa.Column("issuer", sa.String(300), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),  # the provider's stable user id
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("login", sa.String(255), nullable=True),  # the name it goes by there
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("last_sign_in_at", UTC_TS, nullable=False),
    sa.Index("ix_identities_account", "account_id"),
)

# Random secrets made once per installation and shared by all its processes (the key that
# signs the short-lived cookie of a sign-in in progress, for one).
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
)

# The billing alerts each account has been sent (pier/billing/alerts.py): one row per kind and
# period, written before the alert goes out, so whichever process inserts it is the one that
# sends it, and nobody sends it twice.
alerts_sent = sa.Table(
    "alerts_sent",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),  # first_dollar, limit_50, low_balance…
    sa.Column("period", sa.String(64), primary_key=True),  # see pier/billing/alerts.py
    sa.Column("sent_at", UTC_TS, nullable=False),
)

# Idempotency-Key of creates: the first request with a key (per account) reserves it with the id
# its prediction gets; a retry with the same key and the same request gets that prediction back.
# `request_sha256` tells a retry from a different request reusing the key. Kept 24 hours.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("prediction_id", sa.String(32), nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Index("ix_idempotency_keys_created", "created_at"),
)

# -- deployments -------------------------------------------------------------------------------

# A deployment: a name its owner runs predictions through, pointing at its current release.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("current_release", sa.Integer, nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.UniqueConstraint("owner", "name", name="uq_deployments_owner_name"),
    sa.Index("ix_deployments_account", "account_id", "owner", "name"),
)

# Each change of a deployment is a new release, numbered from 1; a release is never changed.
deployment_releases = sa.Table(
    "deployment_releases",
    metadata,
    sa.Column("deployment_id", sa.String(32), sa.ForeignKey("deployments.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.String(32), nullable=False),
    sa.Column("version_id", sa.String(64), nullable=False),
    sa.Column("hardware", sa.String(64), nullable=False),
    sa.Column("min_instances", sa.Integer, nullable=False),
    sa.Column("max_instances", sa.Integer, nullable=False),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("created_by", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
)
