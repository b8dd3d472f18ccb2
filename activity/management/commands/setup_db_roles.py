"""Set up PostgreSQL's two roles: an owner that owns the schema and runs migrations, and the app's role.

The web and worker processes connect as the app role, which may read and write the catalog's tables but may only
INSERT and SELECT activity entries (and only SELECT their chain links): it cannot UPDATE, DELETE or TRUNCATE the log,
ALTER its tables (so cannot disable a trigger), or change session_replication_role (not a superuser, not the owner,
not a member of the owner). Idempotent: `make serve` runs it as the owner after every migrate, so new tables get
their grants.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg import sql

# Tables of the log: the app role may add and read, never change or remove.
APPEND_ONLY = ("activity_activityentry", "activity_verification")
# Written only by the database's own (SECURITY DEFINER) chaining trigger.
READ_ONLY = ("activity_chainlink",)


def _quote(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _literal(value: str) -> str:
    return sql.Literal(value).as_string(None)


def statements(
    *,
    owner: str,
    app: str,
    database: str,
    schema: str = "public",
    create_roles: bool = False,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> list[str]:
    """The SQL that sets up the owner and app roles on database (each statement safe to run again)."""
    o, a, d, s = _quote(owner), _quote(app), _quote(database), _quote(schema)
    out: list[str] = []
    if create_roles:
        for role, quoted, password in ((owner, o, owner_password), (app, a, app_password)):
            out.append(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN "
                f"CREATE ROLE {quoted} LOGIN; END IF; END $$"
            )
            out.append(f"ALTER ROLE {quoted} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
            # As config/settings.py asks on each connection, for connections that cannot (through PgBouncer).
            out.append(f"ALTER ROLE {quoted} SET jit = off")
            if password:
                out.append(f"ALTER ROLE {quoted} PASSWORD {_literal(password)}")
        out.append(f"ALTER DATABASE {d} OWNER TO {o}")
    # Everything in the schema belongs to the owner (tables migrated earlier by another role included); a table's
    # sequences and indexes follow it.
    out.append(
        f"""DO $$ DECLARE item record; BEGIN
  FOR item IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = {_literal(schema)} AND c.relkind IN ('r', 'p', 'v', 'm')
        AND pg_get_userbyid(c.relowner) <> {_literal(owner)} LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO %I', CASE item.relkind WHEN 'v' THEN 'VIEW'
      WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, {_literal(schema)}, item.relname, {_literal(owner)});
  END LOOP;
  FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = {_literal(schema)} AND p.proname LIKE 'activity\\_%'
        AND pg_get_userbyid(p.proowner) <> {_literal(owner)} LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.signature, {_literal(owner)});
  END LOOP;
END $$"""
    )
    out += [
        # The app role holds no other role (so it cannot SET ROLE to the owner) and creates nothing.
        f"DO $$ DECLARE item record; BEGIN FOR item IN SELECT r.rolname FROM pg_auth_members m "
        f"JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = "
        f"{_literal(app)}) LOOP EXECUTE format('REVOKE %I FROM %I', item.rolname, {_literal(app)}); END LOOP; END $$",
        f"GRANT CONNECT ON DATABASE {d} TO {a}",
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA {s} FROM {a}",
        f"GRANT USAGE ON SCHEMA {s} TO {a}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {a}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {a}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {a}",
    ]
    # Before the first migrate the tables do not exist yet: the default privileges above give them every right,
    # so make serve runs this again after migrating.
    for tables, rights in ((APPEND_ONLY, "UPDATE, DELETE"), (READ_ONLY, "INSERT, UPDATE, DELETE")):
        for table in tables:
            qualified = f"{s}.{_quote(table)}"
            out.append(
                f"DO $$ BEGIN IF to_regclass({_literal(qualified)}) IS NOT NULL THEN "
                f"REVOKE {rights} ON {qualified} FROM {a}; END IF; END $$"
            )
    return out


def _user_of(url: str) -> str:
    user = urlsplit(url).username
    if not user:
        raise CommandError(
            f"The URL {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()} names no user."
        )
    return unquote(user)


class Command(BaseCommand):
    help = (
        "Print (or, with --execute, run) the SQL that makes --owner own the schema and gives the app's role (--app, "
        "or the user of --app-url) only INSERT and SELECT on the activity log. Run it as a superuser with "
        "--create-roles the first time; then as the owner after each migrate (make serve does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app", help="the app's role (what DATABASE_URL connects as)")
        parser.add_argument("--app-url", help="the app's DATABASE_URL, to take its role from")
        parser.add_argument("--owner", help="the role that owns the schema (default: the role this command runs as)")
        parser.add_argument("--database", help="the database (default: the one this command connects to)")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--create-roles", action="store_true", help="create the roles if missing (superuser)")
        parser.add_argument("--owner-password")
        parser.add_argument("--app-password")
        parser.add_argument("--execute", action="store_true", help="run the SQL instead of printing it")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "Roles are PostgreSQL's: set DATABASE_URL to the database (as its owner or a superuser)."
            )
        app = options["app"] or (_user_of(options["app_url"]) if options["app_url"] else None)
        if not app:
            raise CommandError("Name the app's role: --app ROLE, or --app-url with the app's DATABASE_URL.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            current_user, current_database = cursor.fetchone()
        owner = options["owner"] or current_user
        if app == owner:
            raise CommandError(
                f"The app's role and the owner are both {app}: the app would own the log and could switch its guards "
                "off. Connect the app as another role."
            )
        sql_list = statements(
            owner=owner,
            app=app,
            database=options["database"] or current_database,
            schema=options["schema"],
            create_roles=options["create_roles"],
            owner_password=options["owner_password"],
            app_password=options["app_password"],
        )
        if not options["execute"]:
            for statement in sql_list:
                self.stdout.write(statement.rstrip() + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in sql_list:
                cursor.execute(statement)
        self.stdout.write(f"{owner} owns the schema; {app} may only insert and read the activity log.")
