import pytest

from todo_app import db, migrator

from .conftest import context_for, handler_of


def test_migrate_handler_applies_once(bare_stack):
    migrate = handler_of("migrate")
    first = migrate({}, context_for("migrate"))
    versions = [m.version for m in migrator.discover()]
    assert first == {"applied": versions, "current": versions[-1]}
    second = migrate({}, context_for("migrate"))
    assert second == {"applied": [], "current": versions[-1]}
    with bare_stack.admin() as conn:
        rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version").fetchall()
        assert rows == [(m.version, m.checksum) for m in migrator.discover()]
        conn.execute(
            "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'A@x.io', 'a@x.io', 'a', 'h')"
        )
        with pytest.raises(Exception, match="users_email_key_key"):
            conn.execute(
                "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'a@X.IO', 'a@x.io', 'b', 'h')"
            )


def test_changed_or_missing_applied_migration_is_an_error(bare_stack):
    handler_of("migrate")({}, context_for("migrate"))
    conn, _ = db.connection()
    [first, *rest] = migrator.discover()
    changed = migrator.Migration(first.version, first.name, first.sql + "\n-- edited\n")
    with pytest.raises(migrator.MigrationError, match="checksum"):
        migrator.migrate(conn, [changed, *rest])
    with pytest.raises(migrator.MigrationError, match="missing"):
        migrator.migrate(conn, [])
    # the lock was released: a normal run still works
    assert migrator.migrate(conn)["applied"] == []


def test_a_failing_migration_leaves_no_trace(bare_stack):
    conn, _ = db.connection()
    migrations = migrator.discover()
    bad = migrator.Migration("9999", "broken", "CREATE TABLE half_done (id int); SELECT no_such_function();")
    with pytest.raises(Exception, match="no_such_function"):
        migrator.migrate(conn, [*migrations, bad])
    with bare_stack.admin() as admin:
        assert admin.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == migrations[-1].version
        assert admin.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
    assert migrator.migrate(conn, [*migrations, migrator.Migration("9999", "fixed", "CREATE TABLE half_done (id int);")])["applied"] == [
        "9999"
    ]


def test_0002_gives_existing_users_their_email_key(bare_stack):
    """Rows written under 0001 get the key (the closest SQL: lower of the NFKC form); new writes use the application's."""
    conn, _ = db.connection()
    [first, *rest] = migrator.discover()
    migrator.migrate(conn, [first])
    conn.execute("INSERT INTO users (id, email, name, password_hash) VALUES (gen_random_uuid(), 'Ａda@Example.COM', 'a', 'h')")
    migrator.migrate(conn)
    assert conn.execute("SELECT email_key FROM users").fetchone()[0] == "ada@example.com"
    with pytest.raises(Exception, match="users_email_key_key"):
        conn.execute(
            "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'xyz', 'ada@example.com', 'b', 'h')"
        )
