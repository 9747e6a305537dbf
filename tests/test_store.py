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


def _limit(con):
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_a_scratch_database_beside_the_users_borrows_its_memory_and_gives_it_back(
    tmp_path, monkeypatch
):
    # Two DuckDB instances in one process each cache up to their own limit: linking ten
    # million records held 5.9 GB under a 2 GB limit before the user's connection lent its.
    monkeypatch.delenv(store.MEMORY_ENV_VAR, raising=False)
    con = store.connect(tmp_path / "a.duckdb")
    before = _limit(con)
    with store.scratch(beside=con) as work:
        assert _limit(con).startswith("488") and _limit(con).endswith("MiB")  # 512 MB lent
        assert _limit(work) == before  # the scratch database works with the user's limit
    assert _limit(con) == before
    with store.scratch() as work:  # nothing beside it: nothing lent
        assert _limit(con) == before


def test_a_limit_below_what_is_lent_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MEMORY_ENV_VAR, "256 MiB")
    con = store.connect(tmp_path / "a.duckdb")
    with store.scratch(beside=con):
        assert _limit(con) == "256.0 MiB"
    assert _limit(con) == "256.0 MiB"


def test_memory_sizes_are_read_as_duckdb_reads_them():
    assert store._size("2GB") == 2e9
    assert store._size("512 MiB") == 512 * 2**20
    assert store._size("1.5gb") == 1.5e9
    assert store._size("80%") is None


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
