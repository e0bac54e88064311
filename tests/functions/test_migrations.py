"""Migrations as the migrator: the migrate function on its `connection` path (real PostgreSQL), the one
transaction, the statement splitter, and the application role it maintains (see test_roles.py for what
that role may not do; test_data_api.py for the Data API path)."""

import pytest

from todo_app import catalog, migrator

from .conftest import context_for, handler_of


def test_migrate_handler_applies_once_and_records_the_database_as_ok(bare_stack):
    migrate = handler_of("migrate")
    first = migrate({}, context_for("migrate"))
    versions = [m.version for m in migrator.discover()]
    assert first == {"applied": versions, "current": versions[-1]}
    second = migrate({}, context_for("migrate"))
    assert second == {"applied": [], "current": versions[-1]}
    with bare_stack.admin() as conn:
        rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version").fetchall()
        assert rows == [(m.version, m.checksum) for m in migrator.discover()]
        # the migrator owns the schema
        owners = dict(conn.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall())
        assert owners == {"schema_migrations": catalog.MIGRATOR_DB_USER, "users": catalog.MIGRATOR_DB_USER}
        conn.execute(
            "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'A@x.io', 'a@x.io', 'a', 'h')"
        )
        with pytest.raises(Exception, match="users_email_key_key"):
            conn.execute(
                "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'a@X.IO', 'a@x.io', 'b', 'h')"
            )
    [status] = bare_stack.scan("dependencyStatus")
    assert status["dependency"] == "postgres" and status["state"] == "ok" and status["at"].endswith("Z")


def test_changed_or_missing_applied_migration_is_an_error(bare_stack):
    handler_of("migrate")({}, context_for("migrate"))
    with bare_stack.migrator() as conn:
        [first, *rest] = migrator.discover()
        changed = migrator.Migration(first.version, first.name, first.sql + "\n-- edited\n")
        with pytest.raises(migrator.MigrationError, match="checksum"):
            migrator.migrate(conn, [changed, *rest])
        with pytest.raises(migrator.MigrationError, match="missing"):
            migrator.migrate(conn, [])
        # the transaction (and its lock) ended: a normal run still works
        assert migrator.migrate(conn)["applied"] == []


def test_a_failing_migration_leaves_no_trace(bare_stack):
    """One transaction for the whole run: a failure in a later file undoes the earlier files, their version rows
    and the role maintenance too."""
    migrations = migrator.discover()
    bad = migrator.Migration("9999", "broken", "CREATE TABLE half_done (id int); SELECT no_such_function();")
    with bare_stack.migrator() as conn:
        with pytest.raises(Exception, match="no_such_function"):
            migrator.migrate(conn, [*migrations, bad])
        assert conn.execute("SELECT to_regclass('schema_migrations'), to_regclass('users'), to_regclass('half_done')").fetchone() == (
            None,
            None,
            None,
        )
        fixed = migrator.Migration("9999", "fixed", "CREATE TABLE half_done (id int);")
        assert migrator.migrate(conn, [*migrations, fixed])["applied"] == [*(m.version for m in migrations), "9999"]
        # a table a later migration creates is the application's too (default privileges and the grant)
        assert conn.execute("SELECT has_table_privilege('todo_app', 'half_done', 'INSERT')").fetchone() == (True,)


def test_0002_gives_existing_users_their_email_key(bare_stack):
    """Rows written under 0001 get the key (the closest SQL: lower of the NFKC form); new writes use the application's."""
    with bare_stack.migrator() as conn:
        [first, *rest] = migrator.discover()
        migrator.migrate(conn, [first])
        conn.execute("INSERT INTO users (id, email, name, password_hash) VALUES (gen_random_uuid(), 'Ａda@Example.COM', 'a', 'h')")
        migrator.migrate(conn)
        assert conn.execute("SELECT email_key FROM users").fetchone()[0] == "ada@example.com"
        with pytest.raises(Exception, match="users_email_key_key"):
            conn.execute(
                "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'xyz', 'ada@example.com', 'b', 'h')"
            )


def test_files_run_statement_by_statement_through_the_splitter(bare_stack):
    """A file with a function body ($$), strings and comments holding semicolons runs as its statements."""
    sql = """
        -- a comment; with a semicolon
        CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL DEFAULT 'a;b');
        /* a block; /* nested; */ comment */
        CREATE FUNCTION note_body(n int) RETURNS text LANGUAGE plpgsql AS $body$
        BEGIN
            RETURN (SELECT body FROM notes WHERE id = n) || ';' || $$x;y$$;
        END
        $body$;
        INSERT INTO notes (id) VALUES (1);
    """
    with bare_stack.migrator() as conn:
        migrator.migrate(conn, [*migrator.discover(), migrator.Migration("9000", "notes", sql)])
        assert conn.execute("SELECT note_body(1)").fetchone() == ("a;b;x;y",)


def test_the_application_role_is_created_with_dml_only(bare_stack):
    handler_of("migrate")({}, context_for("migrate"))
    with bare_stack.admin() as conn:
        role = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", (catalog.APP_DB_USER,)
        ).fetchone()
        assert role == (True, False, False, False)
        assert conn.execute("SELECT pg_has_role(%s, 'rds_iam', 'MEMBER')", (catalog.APP_DB_USER,)).fetchone() == (True,)
        privileges = conn.execute(
            """SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants
               WHERE grantee = %s GROUP BY table_name""",
            (catalog.APP_DB_USER,),
        ).fetchall()
        assert privileges == [("users", "DELETE,INSERT,SELECT,UPDATE")]
