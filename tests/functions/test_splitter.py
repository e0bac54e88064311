"""The migrations' statement splitter (todo_app.migrator.split_statements): where a PostgreSQL statement ends."""

import pytest

from todo_app.migrator import MigrationError, discover, split_statements


def test_plain_statements_without_empty_ones():
    assert split_statements("SELECT 1; ;\n SELECT 2;\n\n") == ["SELECT 1", "SELECT 2"]
    assert split_statements("SELECT 1") == ["SELECT 1"]
    assert split_statements("  -- only a comment\n /* and another */ ; ") == []


@pytest.mark.parametrize(
    ("sql", "statements"),
    [
        ("SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("SELECT 'it''s; here'; SELECT 2", ["SELECT 'it''s; here'", "SELECT 2"]),
        ("SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", "SELECT 2"]),
        ("SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", "SELECT 2"]),  # no E: a backslash is a plain character
        ('SELECT 1 AS "a;""b"; SELECT 2', ['SELECT 1 AS "a;""b"', "SELECT 2"]),
        ("SELECT 1 -- one; two\n; SELECT 2", ["SELECT 1 -- one; two", "SELECT 2"]),
        ("SELECT /* a; /* nested; */ b; */ 1; SELECT 2", ["SELECT /* a; /* nested; */ b; */ 1", "SELECT 2"]),
        ("DO $$ BEGIN PERFORM 1; END $$; SELECT 2", ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"]),
        (
            "CREATE FUNCTION f() RETURNS text AS $fn$ SELECT $$a;b$$ || 'c;' $fn$ LANGUAGE sql; SELECT 2",
            ["CREATE FUNCTION f() RETURNS text AS $fn$ SELECT $$a;b$$ || 'c;' $fn$ LANGUAGE sql", "SELECT 2"],
        ),
        ("PREPARE p AS SELECT $1; EXECUTE p(1)", ["PREPARE p AS SELECT $1", "EXECUTE p(1)"]),
        ("SELECT a$b FROM t; SELECT 2", ["SELECT a$b FROM t", "SELECT 2"]),  # $ inside an identifier opens nothing
    ],
)
def test_semicolons_inside_strings_identifiers_comments_and_dollar_quotes_stay(sql, statements):
    assert split_statements(sql) == statements


@pytest.mark.parametrize("sql", ["SELECT 'open", 'SELECT "open', "SELECT /* open", "DO $x$ BEGIN END $y$"])
def test_unterminated_text_is_an_error(sql):
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements(sql)


def test_every_migration_file_splits():
    for migration in discover():
        assert migration.statements(), migration.version
