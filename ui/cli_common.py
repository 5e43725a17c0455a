"""What every `govqa` command shares: its settings, how it fails, its JSON output.

Used by ui/cli.py and by the commands other packages register through the `govqa.commands` entry
point (eval/cli.py). It is a module of its own so that both see the same `UserError` class even when
the command line runs as `python -m ui.cli` (then ui/cli.py is `__main__`, not `ui.cli`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from assistant import Settings

json_flag = click.option("--json", "as_json", is_flag=True)


class UserError(Exception):
    """A failure the user can act on: `main` prints the message (to standard error, or as {"error": …} on
    standard output for a command run with --json) and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1, as_json: bool = False) -> None:
        super().__init__(message)
        self.message, self.exit_code, self.as_json = message, exit_code, as_json


@dataclass(frozen=True)
class Refusal:
    """How a command shows the library refusing: one of `errors` (KeyError: no such record, version, topic or
    account; ValueError: a bad file, password or setting) becomes a UserError, `prefix` + the library's reason."""

    prefix: str
    errors: tuple[type[Exception], ...]
    exit_code: int = 1


def print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def load_settings() -> Settings:
    """The settings from the environment; a malformed one is a configuration error (exit status 2)."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise UserError(f"配置错误：{exc}", 2) from None


class Command(click.Command):
    """A `govqa` command. Its callback gets the settings first, read once the arguments are parsed (so --help
    and usage errors never depend on the environment, and a malformed setting stops any command); `refusal`
    maps the library's expected exceptions, so the callback has no error handling of its own."""

    def __init__(self, *args: Any, refusal: Refusal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def invoke(self, ctx: click.Context) -> Any:
        settings = load_settings()
        refusal = self.refusal or Refusal("", ())
        try:
            return ctx.invoke(self.callback, settings, **ctx.params)
        except refusal.errors as exc:
            reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise UserError(f"{refusal.prefix}{reason}", refusal.exit_code) from None


class Group(click.Group):
    """A family of `govqa` commands (kb, users, demand …): its commands and subgroups are of the classes above."""

    command_class = Command
    group_class = type
