"""Make an API token for a user from the command line (first set-up, automation); prints it on its own line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.services import TokenError, create_api_token


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is not shown again). The activity log records it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What uses the token, e.g. 'release pipeline'.")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="Days until it expires (default: never).")

    def handle(self, *args: Any, username: str, name: str, expires: int | None, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called “{username}”.")
        try:
            _, secret = create_api_token(actor=user, name=name, expires_in_days=expires)
        except (TokenError, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(secret)
