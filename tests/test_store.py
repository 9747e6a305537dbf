"""The store: schema versions, upgrades and the memory DuckDB may take."""

from __future__ import annotations

from preservation import store


def test_memory_limit_defaults_low_and_can_be_set(tmp_path, monkeypatch):
    monkeypatch.delenv(store.MEMORY_ENV_VAR, raising=False)
    con = store.connect(tmp_path / "a.duckdb")
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.close()
    monkeypatch.setenv(store.MEMORY_ENV_VAR, "512MB")
    con = store.connect(tmp_path / "b.duckdb")
    chosen = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.close()
    assert default.startswith("1.8") and default.endswith("GiB")  # 2 GB, as DuckDB prints it
    assert chosen.startswith("488") and chosen.endswith("MiB")  # 512 MB


def test_upgrading_from_schema_3_drops_the_rebuilt_tables_and_keeps_the_harvest(tmp_path):
    path = tmp_path / "old.duckdb"
    con = store.connect(path)
    con.execute(
        "INSERT INTO raw_records VALUES ('loc', 'k', 1, now()::TIMESTAMP, 'r', 'sha', '{}')"
    )
    # What a schema-3 database looked like: a primary key on recordings.
    con.execute("DROP TABLE recordings")
    con.execute("CREATE TABLE recordings (record_id VARCHAR PRIMARY KEY, source VARCHAR)")
    con.execute("INSERT INTO recordings VALUES ('x', 'loc')")
    con.execute("UPDATE schema_info SET value = '3' WHERE key = 'schema_version'")
    con.close()

    con = store.connect(path)
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM recordings").fetchone() == (0,)
    columns = [r[0] for r in con.execute("DESCRIBE recordings").fetchall()]
    assert "raw_keys" in columns  # recreated with the current shape
    con.execute(
        "INSERT INTO recordings (record_id, source, kind, source_id) VALUES "
        "('x', 'loc', 'item', 'x'), ('x', 'loc', 'item', 'x')"
    )  # no key index now
    assert con.execute("SELECT value FROM schema_info").fetchone() == (str(store.SCHEMA_VERSION),)
    con.close()
