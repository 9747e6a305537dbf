"""Crash safety: SIGKILL a live harvest and a dump import at seeded random points, and resume.

Each job runs the real `preservation` command in a subprocess and kills it with SIGKILL (no
cleanup of any kind runs) somewhere inside its work; checks that the database opens read-only
and that every table reads whole; then runs the same command again, to be killed again. After
its kills a last run completes, and the database must hold exactly what one uninterrupted run
wrote: the same rows, none twice (run ids, timestamps and import ids aside).

- harvest: `harvest musicbrainz` against the loopback replay server: three real lookups, then
  a real search replayed as 17 pages. A job's kill points are spread over the whole harvest
  (request 1 to 20, in order); each kill comes a seeded random time (up to 1.5 request
  intervals) after that request reached the server: before its answer is committed, or after.
- import: `import-dump` of a .tar.xz built from real MusicBrainz entities (copied with fresh
  MBIDs until the big entities span several 1 MB chunks; a few lines broken on purpose). Each
  kill comes at a seeded share of the work, measured in the process's CPU time from the moment
  it opened the database: while staging, committing, between entities, merging, checkpointing.

Kill points are stratified: the n kills of a job fall one in each n-th of the work. By
default each command is killed 10 times (2 jobs of 5, side by side); `-m soak` kills many
more. Run with -s to see where each kill struck.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from preservation import store
from tests.replay import ReplayServer
from tests.test_import_dump import ENTITIES, MB, entity_line

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL, and DuckDB's file locks as on POSIX"
)

# Every kill point is drawn from random.Random(f"{SEED}:<job>"); another seed, other points.
SEED = int(os.environ.get("CRASH_RESUME_SEED", "92026"))
PARALLEL = 2  # jobs run side by side: each kill point is found by progress, not by the clock
CONTACT = "tests@example.org"
INTERVAL = 0.02  # seconds between harvest requests (a mirror may be asked this fast)
CHUNK_MB = 1  # the import commits every 1 MB of lines: the smallest the command allows

# Three real lookups come first (the command orders scopes by kind), then the paged search.
LOOKUP_FILES = {"recording": ENTITIES["recording"][:1], "release": ENTITIES["release"][:2]}
LOOKUPS = [
    (kind, json.loads((MB / relative).read_text())["id"], relative)
    for kind, files in LOOKUP_FILES.items()
    for relative in files
]
SEARCH = Path(__file__).parent / "data/musicbrainz/search_recording_we_will_rock_you.json"
QUERY = 'recording:"we will rock you" AND arid:0383dadf-2a4e-4d10-a46a-e9e041da8eb3'
QUERY_SCOPE = f"query:{QUERY}"
PAGE_SIZE = len(json.loads(SEARCH.read_text())["recordings"])
TOTAL = json.loads(SEARCH.read_text())["count"]
OFFSETS = list(range(0, TOTAL, PAGE_SIZE))
HARVEST_REQUESTS = len(LOOKUPS) + len(OFFSETS)

# Megabytes of lines per entity file of the built dump: several chunks for the big entities.
DUMP_MB = {"recording": 2.2, "release": 2.2, "work": 0.3, "artist": 0.3}
BROKEN_EVERY = 97  # every 97th recording line is cut short, to be quarantined by line number
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


STARTUP = "startup"  # killed before the run was logged
CLOSING = "closing (run logged ok)"  # killed after the run was logged ok


@dataclass
class Kill:
    """One SIGKILL that landed: which job, and where in the work it struck."""

    job: str
    phase: str  # coarse, for the distribution
    detail: str  # precise, for a failure message


@dataclass
class Job:
    """Runs of one command on one database: killed `planned` times, then run to the end."""

    name: str
    db: Path
    planned: int
    in_order: bool  # kill points move forward through the work (else shuffled)
    kills: list[Kill] = field(default_factory=list)
    ended_first: int = 0  # runs that completed before their kill point came
    rng: random.Random = field(init=False)
    strata: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{SEED}:{self.name}")
        self.strata = list(range(self.planned))
        if not self.in_order:
            self.rng.shuffle(self.strata)

    def share(self) -> float:
        """Where in the work the next kill falls, from 0 (its start) to 1 (its end): at a
        random place of its own n-th of the work, so that a few kills cover all of it."""
        return (self.strata[len(self.kills)] + self.rng.random()) / self.planned


# ---------------------------------------------------------------- running and killing


def command(*args: str) -> list[str]:
    """The installed console script (what a user runs), else the same app through Python."""
    script = Path(sys.executable).with_name("preservation")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from preservation.cli import app; app()", *args]


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESERVATION_")}
    tmp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp)  # what killed processes leave in their temp folder shows here
    return env


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE
    return subprocess.Popen(command(*args), cwd=cwd, env=env, text=True, stdout=pipe, stderr=pipe)


def run_to_end(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command(*args), cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def kill_at(
    proc: subprocess.Popen[str],
    ready: Callable[[], bool],
    delay: float,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """SIGKILL `proc` once `clock` has moved on `delay` since `ready()` first held.

    False if the process ended first (it may even end between the last look and the signal).
    """
    while not ready():
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    begun = clock()
    while clock() - begun < delay:
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return proc.returncode == -signal.SIGKILL


def ended_well(proc: subprocess.Popen[str]) -> None:
    _, err = proc.communicate()
    assert proc.returncode == 0, err


def cpu_clock(pid: int) -> Callable[[], float]:
    """The process's CPU seconds (all threads) where /proc tells them, else wall seconds.

    A measure of work done: other load on the machine stretches wall time, not CPU time, so
    a point drawn on this clock falls at about the same place in the work on a busy machine.
    """
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return time.monotonic
    tick = os.sysconf("SC_CLK_TCK")
    last = [0.0]

    def clock() -> float:
        try:  # utime and stime: the 12th and 13th fields after the command's name
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # reaped
            return last[0]
        last[0] = (int(fields[11]) + int(fields[12])) / tick
        return last[0]

    return clock


def wal_state(db: Path) -> tuple[int, int, int] | None:
    """Identity, size and time of the database's write-ahead log (None: there is none)."""
    try:
        stat = db.with_name(db.name + ".wal").stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def assert_readable(db: Path) -> None:
    """The killed process's database opens read-only (replaying its WAL) and every table
    reads whole: DuckDB checks each block's checksum as it reads it."""
    with closing(store.connect_read_only(db)) as con:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
        ).fetchall()
        for (table,) in tables:
            con.execute(f'SELECT * FROM "{table}"').fetchall()


def rows(db: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with closing(store.connect_read_only(db)) as con:
        return con.execute(sql, params or []).fetchall()


def logged_run(job: Job, before: tuple[int, str] | None) -> tuple[int, str] | None:
    """After a kill: the database reads whole, and the run the killed process logged, or None
    (counted as a kill at startup) when it died before logging one."""
    assert_readable(job.db)
    after = last_run(job.db)
    if after is None or after == before:
        job.kills.append(Kill(job.name, STARTUP, "before the run was logged"))
        return None
    return after


def last_run(db: Path) -> tuple[int, str] | None:
    """(run id, status) of the latest harvest_log row, None before any."""
    found = rows(db, "SELECT run_id, status FROM harvest_log ORDER BY run_id DESC LIMIT 1")
    return (int(str(found[0][0])), str(found[0][1])) if found else None


def run_jobs(jobs: list[Job], work: Callable[[Job], None]) -> None:
    with ThreadPoolExecutor(PARALLEL) as pool:
        for done in [pool.submit(work, job) for job in jobs]:
            done.result()  # raises what failed in the job


def report(kind: str, jobs: list[Job], seconds: float) -> list[Kill]:
    """Print where the kills struck (visible with -s) and return them."""
    landed = [k for j in jobs for k in j.kills]
    counts = Counter(k.phase for k in landed)
    print(
        f"\n{kind}: {len(landed)} kills in {seconds:.0f} s "
        f"({sum(j.ended_first for j in jobs)} runs ended before their kill point): "
        + ", ".join(f"{phase} {n}" for phase, n in sorted(counts.items()))
    )
    print(kill_log(jobs))
    assert all(len(j.kills) == j.planned for j in jobs), kill_log(jobs)
    return landed


def kill_log(jobs: list[Job]) -> str:
    return "\n".join(f"  {k.job}: {k.phase} ({k.detail})" for j in jobs for k in j.kills)


def assert_same(
    got: dict[str, list[tuple[object, ...]]], want: dict[str, list[tuple[object, ...]]], job: Job
) -> None:
    """The job's tables hold what the uninterrupted run's do, and its log tells the truth:
    the last run ok, every run a kill cut short marked failed as interrupted, none running."""
    for table, expected in want.items():
        extra = len(got[table]) - len(expected)
        assert got[table] == expected, (
            f"{job.name}: {table} differs ({extra:+} rows)\n{kill_log([job])}"
        )
    log = rows(job.db, "SELECT status, message FROM harvest_log ORDER BY run_id")
    assert log[-1] == ("ok", None), log
    phases = Counter(k.phase for k in job.kills)
    cut_short = len(job.kills) - phases[STARTUP] - phases[CLOSING]
    assert Counter(status for status, _ in log) == Counter(
        ok=1 + job.ended_first + phases[CLOSING], failed=cut_short
    ), log
    assert all(m.startswith("interrupted: ") for s, m in log if s == "failed"), log


# ---------------------------------------------------------------- harvest


@pytest.fixture(scope="module")
def search_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real first page of the search, as 17 pages.

    Only that page (25 of 423 recordings) was recorded. Each copy gets its `offset` and fresh
    MBIDs, so that every page differs and a page stored under another's key would show.
    """
    folder = tmp_path_factory.mktemp("search_pages")
    for offset in OFFSETS:
        page = json.loads(fresh_ids(SEARCH.read_text(), offset))
        page["offset"] = offset
        (folder / f"{offset}.json").write_text(json.dumps(page, ensure_ascii=False))
    return folder


def replay_server(pages: Path) -> ReplayServer:
    server = ReplayServer()
    for kind, mbid, relative in LOOKUPS:
        server.route(f"/ws/2/{kind}/{mbid}", MB / relative)
    for offset in OFFSETS:  # musicbrainzngs sends no offset for the first page
        wanted = {"offset": str(offset) if offset else None}
        server.route("/ws/2/recording/", pages / f"{offset}.json", query=wanted)
    return server


def harvest_args(server: ReplayServer, db: Path) -> list[str]:
    return [
        "harvest", "musicbrainz", *[f"--{kind}={mbid}" for kind, mbid, _ in LOOKUPS],
        "--query", QUERY, "--contact", CONTACT, "--base-url", server.url,
        "--interval", str(INTERVAL), "--db", str(db),
    ]  # fmt: skip


def query_checkpoint(db: Path) -> tuple[int, bool, int] | None:
    """(position, done, run id) of the search scope's checkpoint."""
    found = rows(
        db, "SELECT position, done, run_id FROM harvest_checkpoints WHERE scope = ?", [QUERY_SCOPE]
    )
    return (int(str(found[0][0])), bool(found[0][1]), int(str(found[0][2]))) if found else None


def harvest_snapshot(db: Path, server: ReplayServer) -> dict[str, list[tuple[object, ...]]]:
    """What a harvest leaves, without run ids and timestamps (and the replay server's port,
    which each job's server has its own of); a row stored twice would show."""
    queries = {
        "raw_records": "SELECT source, key, replace(request, ?, 'http://replay'), "
        "content_sha256, payload FROM raw_records",
        "quarantine": "SELECT * EXCLUDE (first_seen_run) FROM quarantine",
        "checkpoints": "SELECT source, scope, position, total, done, cursor "
        "FROM harvest_checkpoints",
    }
    return {
        name: rows(db, f"{sql} ORDER BY ALL", [server.url] if "?" in sql else [])
        for name, sql in queries.items()
    }


def harvest_kill(server: ReplayServer, job: Job, tmp: Path, env: dict[str, str]) -> None:
    """One run of the job's harvest, killed at its next kill point if it gets there."""
    before = last_run(job.db)
    checkpoint = query_checkpoint(job.db)
    resume_at = checkpoint[0] if checkpoint and not checkpoint[1] else 0
    pages_done = len([o for o in OFFSETS if o < resume_at])
    # The kill point is a request of the whole harvest; a run after a kill asks for the
    # lookups again, then for the search pages from where the last one stopped.
    point = 1 + int(job.share() * HARVEST_REQUESTS)
    nth = (
        point if point <= len(LOOKUPS) else len(LOOKUPS) + max(1, point - len(LOOKUPS) - pages_done)
    )
    delay = job.rng.uniform(0, 1.5 * INTERVAL)
    seen = len(server.log)
    proc = start(harvest_args(server, job.db), tmp, env)
    killed = kill_at(proc, lambda: len(server.log) - seen >= nth, delay)
    asked = server.log[seen:]
    searched = [r for r in asked if r.path == "/ws/2/recording/"]
    if searched:  # the search resumes at the page after the last one committed, not at 0
        assert searched[0].query.get("offset", ["0"]) == [str(resume_at)], (job.name, searched)
    if not killed:
        ended_well(proc)
        job.ended_first += 1
        return
    after = logged_run(job, before)
    if after is None:
        return
    run_id, status = after
    lookups_done = rows(
        job.db,
        "SELECT count(*) FROM harvest_checkpoints WHERE scope <> ? AND run_id = ?",
        [QUERY_SCOPE, run_id],
    )[0][0]
    now = query_checkpoint(job.db)
    pages = 0
    if now is not None and now[2] == run_id:
        pages = len([o for o in OFFSETS if resume_at <= o < now[0]])
    committed = int(str(lookups_done)) + pages
    where = f"request {nth}: {len(asked)} answered, {committed} committed; search at {now}"
    if status == "ok":
        phase = CLOSING
    elif committed < len(asked):
        phase = "page answered, not committed" if pages else "lookup answered, not committed"
    else:
        phase = "between pages" if pages else "between lookups"
    job.kills.append(Kill(job.name, phase, where))


def kill_harvests(pages: Path, tmp_path: Path, jobs: int, kills: int) -> tuple[list[Job], float]:
    began = time.monotonic()
    env = environment(tmp_path / "tmp")
    reference = tmp_path / "reference.duckdb"
    with replay_server(pages) as server:
        run_to_end(harvest_args(server, reference), tmp_path, env)
        want = harvest_snapshot(reference, server)
    assert len(want["raw_records"]) == HARVEST_REQUESTS  # each answer once, under its own key

    def work(job: Job) -> None:
        with replay_server(pages) as server:  # its own, so that its log is the job's alone
            for _ in range(4 * job.planned):  # a run that ends first gets another try
                if len(job.kills) == job.planned:
                    break
                harvest_kill(server, job, tmp_path, env)
            run_to_end(harvest_args(server, job.db), tmp_path, env)
            assert_same(harvest_snapshot(job.db, server), want, job)

    planned = [
        Job(f"harvest-{n}", tmp_path / f"harvest-{n}.duckdb", kills, True) for n in range(jobs)
    ]
    run_jobs(planned, work)
    return planned, time.monotonic() - began


def check_harvest_kills(jobs: list[Job], seconds: float) -> None:
    phases = {k.phase for k in report("harvest", jobs, seconds)}
    # The kills hit the work itself: an answer lost before its commit (asked again on
    # resume), and a search stopped part-way (resumed at its checkpoint, checked above).
    assert phases & {"page answered, not committed", "lookup answered, not committed"}, phases
    assert phases & {"page answered, not committed", "between pages"}, phases


def test_killed_harvests_resume_to_the_uninterrupted_result(search_pages, tmp_path):
    check_harvest_kills(*kill_harvests(search_pages, tmp_path, jobs=2, kills=5))


@pytest.mark.soak
def test_soak_killed_harvests_resume_to_the_uninterrupted_result(search_pages, tmp_path):
    check_harvest_kills(*kill_harvests(search_pages, tmp_path, jobs=6, kills=10))


# ---------------------------------------------------------------- dump import


def fresh_ids(text: str, copy: int) -> str:
    """The text with every MBID replaced by one derived from it and `copy` (0: unchanged),
    so that a copy of a real entity is a new entity of the same shape with the same links."""
    if copy == 0:
        return text
    return UUID.sub(lambda m: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{copy}:{m.group()}")), text)


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, int]]:
    """A dump as MusicBrainz publishes it (here with all four entities) and extracted, and
    its line counts."""
    folder = tmp_path_factory.mktemp("dump")
    (folder / "mbdump").mkdir()
    (folder / "TIMESTAMP").write_text("2026-11-18 00:00:00.000000+00\n")
    counts = {}
    for entity, files in ENTITIES.items():
        real = [entity_line(f) for f in files]
        copies = int(DUMP_MB[entity] * 2**20 / sum(len(line) + 1 for line in real)) + 1
        lines = [fresh_ids(line, copy) for copy in range(copies) for line in real]
        if entity == "recording":
            lines = [
                line[: len(line) // 2] if number % BROKEN_EVERY == 0 else line
                for number, line in enumerate(lines, start=1)
            ]
        (folder / "mbdump" / entity).write_text("".join(f"{line}\n" for line in lines))
        counts[entity] = len(lines)
    archive = folder / "dump.tar.xz"
    with tarfile.open(archive, "w:xz", preset=1) as tar:  # preset 1: quick to build
        tar.add(folder / "TIMESTAMP", arcname="TIMESTAMP")
        for entity in sorted(ENTITIES):
            tar.add(folder / "mbdump" / entity, arcname=f"mbdump/{entity}")
    return {"archive": archive, "folder": folder}, counts


def import_args(archive: Path, db: Path) -> list[str]:
    return ["import-dump", str(archive), "--chunk-mb", str(CHUNK_MB), "--db", str(db)]


SIGHTINGS = ("source_records", "source_holdings", "source_works", "source_artists")
MERGED = ("recordings", "holdings", "works", "recording_works", "work_writers", "artists")


def import_snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """What an import leaves that counts, without ids and timestamps; a row twice would show."""
    queries = {
        "dump_imports": "SELECT entity, path, member, dump_timestamp, lines_done, rows_staged, "
        "quarantined FROM dump_imports WHERE status = 'complete'",
        "quarantine": "SELECT * EXCLUDE (first_seen_run) FROM quarantine",
        **{t: f"SELECT * EXCLUDE (import_id) FROM {t}" for t in SIGHTINGS},
        **{t: f"SELECT * FROM {t}" for t in MERGED},
    }
    return {name: rows(db, f"{sql} ORDER BY ALL") for name, sql in queries.items()}


def import_kill(
    archive: Path, counts: dict[str, int], job: Job, work: float, tmp: Path, env: dict[str, str]
) -> None:
    """One run of the job's import, killed at its next kill point if it gets there.

    `work` is how long (on `cpu_clock`) the uninterrupted import had the database open.
    """
    before = last_run(job.db)
    resumed = rows(
        job.db, "SELECT coalesce(sum(lines_done), 0) FROM dump_imports WHERE status = 'running'"
    )
    # A run after a kill skips the lines the interrupted entities committed, and imports the
    # others again (a complete import is replaced by the next one).
    left = 1 - (int(str(resumed[0][0])) if resumed else 0) / sum(counts.values())
    delay = job.share() * work * left
    wal = wal_state(job.db)
    proc = start(import_args(archive, job.db), tmp, env)
    # Opening the database writes the schema, so the WAL changes: the work has begun.
    if not kill_at(proc, lambda: wal_state(job.db) != wal, delay, cpu_clock(proc.pid)):
        ended_well(proc)
        job.ended_first += 1
        return
    after = logged_run(job, before)
    if after is None:
        return
    run_id, status = after
    # The imports that count or will, each with whether this run finished it.
    imports = rows(
        job.db,
        "SELECT entity, lines_done, status, finished_at >= (SELECT started_at FROM harvest_log "
        "WHERE run_id = ?) FROM dump_imports WHERE status <> 'superseded' ORDER BY import_id",
        [run_id],
    )
    detail = f"CPU {delay:.2f} s in; run {run_id}: {imports}"
    running = [(str(e), n) for e, n, s, _ in imports if s == "running"]
    if status == "ok":
        phase = CLOSING
    elif running:
        entity, lines = running[-1]
        phase = f"importing {entity}"
        detail = f"{entity} line {lines} of {counts[entity]}; {detail}"
    elif sum(1 for *_, this_run in imports if this_run) == len(counts):
        phase = "merging"
    else:
        phase = "between entities"
    job.kills.append(Kill(job.name, phase, detail))


def kill_imports(
    dump: tuple[dict[str, Path], dict[str, int]], form: str, tmp_path: Path, jobs: int, kills: int
) -> tuple[list[Job], float]:
    began = time.monotonic()
    archive, counts = dump[0][form], dump[1]
    env = environment(tmp_path / "tmp")
    reference = tmp_path / "reference.duckdb"
    proc = start(import_args(archive, reference), tmp_path, env)
    # The work: from opening the database (the WAL appears) to the checkpoint that ends the
    # import (it folds the WAL into the file and removes it). What follows, a count of the
    # tables and the interpreter's exit, writes nothing: a kill there would test nothing.
    clock = cpu_clock(proc.pid)
    while wal_state(reference) is None and proc.poll() is None:
        time.sleep(0.001)
    opened = clock()
    while wal_state(reference) is not None and proc.poll() is None:
        time.sleep(0.001)
    work = clock() - opened
    ended_well(proc)
    want = import_snapshot(reference)
    broken = counts["recording"] // BROKEN_EVERY
    assert [(e, n, q) for e, _, _, _, n, _, q in want["dump_imports"]] == [
        (e, counts[e], broken if e == "recording" else 0) for e in sorted(counts)
    ]
    assert len(want["quarantine"]) == broken

    def run(job: Job) -> None:
        for _ in range(4 * job.planned):  # a run that ends first gets another try
            if len(job.kills) == job.planned:
                break
            import_kill(archive, counts, job, work, tmp_path, env)
        running = rows(
            job.db,
            "SELECT member, lines_done FROM dump_imports WHERE status = 'running' "
            "AND lines_done > 0",
        )
        output = run_to_end(import_args(archive, job.db), tmp_path, env)
        for member, lines in running:  # each interrupted entity continues after its last chunk
            said = [line for line in output.splitlines() if line.startswith(f"{member}: ")]
            assert said, output
            assert said[0].endswith(f"resumed at line {int(str(lines)) + 1:,}"), said
        assert_same(import_snapshot(job.db), want, job)
        # Imports begun before a kill and done again are superseded, their sightings gone.
        statuses = rows(job.db, "SELECT DISTINCT status FROM dump_imports")
        assert set(statuses) <= {("complete",), ("superseded",)}, statuses
        for table in SIGHTINGS:
            orphans = rows(
                job.db,
                f"SELECT count(*) FROM {table} WHERE import_id NOT IN "
                "(SELECT import_id FROM dump_imports WHERE status = 'complete')",
            )
            assert orphans == [(0,)], table

    planned = [
        Job(f"import-{n}", tmp_path / f"import-{n}.duckdb", kills, False) for n in range(jobs)
    ]
    run_jobs(planned, run)
    # A killed import cannot remove its chunk file; the next import removes it.
    assert not list((tmp_path / "tmp").glob("preservation-dump-*")), "chunk files left behind"
    return planned, time.monotonic() - began


def check_import_kills(jobs: list[Job], seconds: float) -> None:
    landed = report("import", jobs, seconds)
    # The kills hit the import itself, part-way through an entity's lines.
    assert any(k.phase.startswith("importing") for k in landed), kill_log(jobs)


def test_killed_dump_imports_resume_to_the_uninterrupted_result(dump, tmp_path):
    check_import_kills(*kill_imports(dump, "archive", tmp_path, jobs=2, kills=5))


@pytest.mark.soak
@pytest.mark.parametrize("form", ["archive", "folder"])
def test_soak_killed_dump_imports_resume_to_the_uninterrupted_result(dump, form, tmp_path):
    check_import_kills(*kill_imports(dump, form, tmp_path, jobs=4, kills=10))
