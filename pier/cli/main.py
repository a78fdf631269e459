"""The `pier` command."""

from __future__ import annotations

import typer

from pier.cli import accounts, client_commands, money, priority, push, serve, status, worker

app = typer.Typer(
    help="Pier: run open-source AI models on your own machines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
accounts.tokens_app.command("priority")(priority.token_priority)
app.add_typer(accounts.tokens_app, name="tokens")
app.add_typer(accounts.tokens_app, name="token", hidden=True)  # the older name
accounts.accounts_app.command("priority")(priority.account_priority)
app.add_typer(accounts.accounts_app, name="accounts")
models_app = typer.Typer(help="Register and list models.", no_args_is_help=True)
models_app.command("add")(serve.models_add)
models_app.command("list")(client_commands.models_list)
app.add_typer(models_app, name="models")
predictions_app = typer.Typer(help="Look at and cancel predictions.", no_args_is_help=True)
predictions_app.command("list")(client_commands.predictions_list)
predictions_app.command("get")(client_commands.predictions_get)
predictions_app.command("cancel")(client_commands.predictions_cancel)
app.add_typer(predictions_app, name="predictions")
app.command("run")(client_commands.run)
app.command("predict")(client_commands.predict)
app.command("push")(push.push)
app.command("status")(status.status)
app.add_typer(money.prices_app, name="prices")
app.add_typer(money.credit_app, name="credit")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
