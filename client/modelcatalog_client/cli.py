"""`modelcatalog`: find versions, request stage changes (and wait for the decision), review requests.

The exit code tells a CI job what happened (see EXIT_CODES); the server's message goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from modelcatalog_client import errors, stage_change
from modelcatalog_client._version import VERSION
from modelcatalog_client._wire import show_time
from modelcatalog_client.change_request import ChangeRequest
from modelcatalog_client.client import HOST_VARIABLE, TOKEN_VARIABLE, Client
from modelcatalog_client.registry import RegisteredModelVersion

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_TIMED_OUT = 3
EXIT_NOT_FOUND = 4
EXIT_UNAUTHENTICATED = 5
EXIT_INVALID = 6
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_DONE: "done",
    EXIT_FAILED: "failed: no answer from the server, or the server failed",
    EXIT_REFUSED: "refused: by your role (403) or the state (409), or the request was rejected or cancelled",
    EXIT_TIMED_OUT: "timed out waiting for a decision; the request stays pending",
    EXIT_NOT_FOUND: "not found, or not visible to you",
    EXIT_UNAUTHENTICATED: "not authenticated: no token, or a wrong, revoked or expired one",
    EXIT_INVALID: "invalid input: the command line, a search or a value the server refused",
}

STAGE_CHANGES: dict[str, type[stage_change._StageChange]] = {
    "unassigned": stage_change.Unassigned,
    "development": stage_change.Development,
    "staging": stage_change.Staging,
    "production": stage_change.Production,
    "archived": stage_change.Archived,
}

DEFAULT_LIMIT = 100
DEFAULT_WAIT = 3600.0


def exit_code(error: BaseException) -> int:
    """The exit code for an error."""
    if isinstance(error, errors.WaitTimeout):
        return EXIT_TIMED_OUT
    if isinstance(error, errors.PermissionDenied | errors.WorkflowError):
        return EXIT_REFUSED
    if isinstance(error, errors.NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, errors.AuthenticationError):
        return EXIT_UNAUTHENTICATED
    if isinstance(error, errors.BadRequest | ValueError):
        return EXIT_INVALID
    return EXIT_FAILED


# Output -----------------------------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _versions_table(versions: Sequence[RegisteredModelVersion]) -> str:
    rows = [
        [v.model, v.name, v.stage, v.lock_level, v.created_by, show_time(v.created_at)[:16], v.url] for v in versions
    ]
    return _table(["MODEL", "VERSION", "STAGE", "LOCK", "CREATED BY", "CREATED", "URL"], rows)


def _requests_table(requests: Sequence[ChangeRequest]) -> str:
    rows = [
        [
            str(r.id),
            r.model,
            r.version,
            f"{r.from_stage} → {r.to_stage}",
            r.status,
            f"{r.approvals}/{r.required_approvals}",
            r.requester,
            show_time(r.created_at)[:16],
        ]
        for r in requests
    ]
    return _table(["ID", "MODEL", "VERSION", "CHANGE", "STATUS", "APPROVALS", "REQUESTER", "CREATED"], rows)


def _state(change_request: ChangeRequest) -> str:
    """What a request's outcome means for its version, in a sentence."""
    r = change_request
    if r.status == "approved":
        return f"{r.model} {r.version} is now in {r.to_stage.capitalize()}"
    if r.status == "pending":
        return f"pending, {r.approvals} of {r.required_approvals} approvals"
    by = f" by {r.resolved_by}" if r.resolved_by else ""
    return f"{r.status}{by}; {r.model} {r.version} stays in {r.from_stage.capitalize()}"


def _show_request(args: argparse.Namespace, change_request: ChangeRequest, said: str) -> None:
    if args.output == "json":
        _json(change_request.to_json())
    else:
        print(f"{said} (request {change_request.id}): {_state(change_request)}.")


# Commands ---------------------------------------------------------------------------------------------------------


def _limited(args: argparse.Namespace, items: Any) -> list[Any]:
    found = list(items[: args.limit + 1])
    if len(found) > args.limit:
        print(f"(the first {args.limit} shown; pass --limit to see more)", file=sys.stderr)
    return found[: args.limit]


def find_versions(client: Client, args: argparse.Namespace) -> int:
    versions = client.get_registered_model(args.model).versions if args.model else client.registered_model_versions
    found = _limited(args, versions.find(*args.predicates) if args.predicates else versions)
    if args.output == "json":
        _json([v.to_json() for v in found])
    else:
        print(_versions_table(found))
    return EXIT_DONE


def request_stage(client: Client, args: argparse.Namespace) -> int:
    version = client.get_registered_model(args.model).get_version(args.version)
    change = STAGE_CHANGES[args.stage](args.message)
    change_request = version.change_stage(change, archive_others=args.archive_others)
    if not args.wait:
        _show_request(args, change_request, f"Requested {args.stage.capitalize()} for {version.model} {version.name}")
        return EXIT_DONE
    print(
        f"Requested {args.stage.capitalize()} for {version.model} {version.name} (request {change_request.id}); "
        f"waiting up to {args.timeout:g} s for {change_request.required_approvals} approval(s)…",
        file=sys.stderr,
    )
    try:
        change_request.wait(timeout=args.timeout, poll_interval=args.poll_interval)
    except (errors.ChangeRequestEnded, errors.WaitTimeout) as ended:
        if args.output == "json":
            _json(ended.change_request.to_json())
        raise
    _show_request(args, change_request, "Approved")
    return EXIT_DONE


def _review(action: str, said: str) -> Callable[[Client, argparse.Namespace], int]:
    def run(client: Client, args: argparse.Namespace) -> int:
        change_request = client.get_change_request(args.request_id)
        getattr(change_request, action)(args.message or "")
        _show_request(args, change_request, said)
        return EXIT_DONE

    return run


def list_requests(client: Client, args: argparse.Namespace) -> int:
    model = client.get_registered_model(args.model) if args.model else None
    found = _limited(args, client.change_requests(waiting_for_me=args.waiting_for_me, status=args.status, model=model))
    if args.output == "json":
        _json([r.to_json() for r in found])
    else:
        print(_requests_table(found))
    return EXIT_DONE


# The command line -------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own code for bad usage is 2, which here means "refused".
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table", help="default: table")


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    top = _Parser(
        prog="modelcatalog",
        description="Model Catalog from the command line.",
        epilog=f"environment: {HOST_VARIABLE} (the catalog's address), {TOKEN_VARIABLE} (an API token)\n"
        f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--host", help=f"the catalog's address (default: ${HOST_VARIABLE})")
    top.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    versions = commands.add_parser("versions", help="versions of the models you may see")
    versions_commands = versions.add_subparsers(dest="versions_command", required=True, metavar="COMMAND")
    find = versions_commands.add_parser(
        "find", help="versions matching predicates", description="Versions matching every PREDICATE, newest first."
    )
    find.add_argument("predicates", nargs="*", metavar="PREDICATE", help='e.g. "stage == production"')
    find.add_argument("--model", help="only this model's versions (its name or slug)")
    find.add_argument(
        "--limit", type=_count, default=DEFAULT_LIMIT, help=f"at most this many (default {DEFAULT_LIMIT})"
    )
    _output_option(find)
    find.set_defaults(run=find_versions)

    request = commands.add_parser(
        "request-stage",
        help="request a stage change for a version",
        description="Request a stage change; it applies once enough reviewers approve. Nothing bypasses approval.",
    )
    request.add_argument("model", metavar="MODEL", help="the model's name or slug")
    request.add_argument("version", metavar="VERSION", help="the version's name")
    request.add_argument(
        "stage", metavar="STAGE", type=str.lower, choices=list(STAGE_CHANGES), help=", ".join(STAGE_CHANGES)
    )
    request.add_argument("-m", "--message", required=True, metavar="COMMENT", help="why, for the reviewers")
    request.add_argument("--archive-others", action="store_true", help="on approval, archive the versions there now")
    request.add_argument("--wait", action="store_true", help="block until approved (exit 0), rejected or cancelled (2)")
    request.add_argument(
        "--timeout", type=_positive, default=DEFAULT_WAIT, help="seconds to wait, then exit 3 (default 3600)"
    )
    request.add_argument("--poll-interval", type=_positive, default=5.0, help="seconds between looks, growing")
    _output_option(request)
    request.set_defaults(run=request_stage)

    for action, said in (("approve", "Approved"), ("reject", "Rejected"), ("cancel", "Cancelled")):
        review = commands.add_parser(action, help=f"{action} a pending stage-change request")
        review.add_argument("request_id", metavar="REQUEST_ID", type=int)
        review.add_argument("-m", "--message", metavar="COMMENT", help="optional comment")
        _output_option(review)
        review.set_defaults(run=_review(action, said))

    listing = commands.add_parser("requests", help="stage-change requests, newest first")
    listing.add_argument("--waiting-for-me", action="store_true", help="pending ones you may review and have not")
    listing.add_argument("--status", choices=["pending", "approved", "rejected", "cancelled"])
    listing.add_argument("--model", help="only this model's (its name or slug)")
    listing.add_argument(
        "--limit", type=_count, default=DEFAULT_LIMIT, help=f"at most this many (default {DEFAULT_LIMIT})"
    )
    _output_option(listing)
    listing.set_defaults(run=list_requests)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or bad usage
        return stop.code if isinstance(stop.code, int) else EXIT_INVALID
    try:
        with Client(args.host) as client:
            code: int = args.run(client, args)
            return code
    except (errors.ModelCatalogError, ValueError) as error:
        print(f"modelcatalog: {error}", file=sys.stderr)
        return exit_code(error)
    except KeyboardInterrupt:
        print("modelcatalog: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
