"""The `preservation` command line: each command is a thin wrapper over a documented function."""

from __future__ import annotations

import csv
import functools
import json
import sys
import textwrap
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from preservation import __version__, rights, store
from preservation.assess import assess
from preservation.demand import load_demand
from preservation.errors import PreservationError
from preservation.harvest import harvest_folder, harvest_live
from preservation.link import DEFAULT_ACCEPT, DEFAULT_REVIEW, LinkOptions, LinkResult, link
from preservation.link_evaluate import evaluate, read_gold
from preservation.link_explain import Explanation, explain
from preservation.link_review import export_review, import_decisions
from preservation.normalize import normalize
from preservation.pipeline import RunSummary, run
from preservation.queries import (
    WRITE_WARNING,
    QueryResult,
    load_queries,
    open_database,
    stream_query,
    stream_sql,
)
from preservation.report import write_reports
from preservation.rights_explain import explain_rights
from preservation.sources import get_live
from preservation.sources.base import HarvestOptions
from preservation.sources.musicbrainz.dump import CHUNK_BYTES, import_dump

app = typer.Typer(
    help="Which recordings are at risk of loss, on one platform only, and lawfully preservable?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rights_app = typer.Typer(
    help="Public-domain status of recordings and works (information, not legal advice).",
    no_args_is_help=True,
)
app.add_typer(rights_app, name="rights")
link_app = typer.Typer(
    help="Group records of the same recording into clusters; explain and evaluate them."
)
app.add_typer(link_app, name="link")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", envvar=store.DB_ENV_VAR, help="Database file [default: preservation.duckdb]."
    ),
]
AsOfOption = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Assess as of this date [default: today]."),
]


# A terminal table of millions of rows helps nobody (and takes rich hours to lay out): a
# table shows this many unless --max-rows says otherwise; csv and json give every row.
TABLE_MAX_ROWS = 1000
MaxRowsOption = Annotated[
    int | None,
    typer.Option(
        "--max-rows",
        min=0,
        help=f"At most this many rows [default: all; {TABLE_MAX_ROWS} as a table].",
    ),
]
AllowWriteOption = Annotated[
    bool,
    typer.Option(
        "--allow-write",
        help="Open the database read-write with DuckDB's full access: writes, ATTACH, COPY, "
        "SET, INSTALL/LOAD and file-reading functions run (a warning is printed). Without "
        "it, the database is read-only and they are refused.",
    ),
]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Layer(StrEnum):
    recording = "recording"
    composition = "composition"


def friendly_errors(command: F) -> F:
    """Turn expected failures into one line on stderr and exit status 1 (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (PreservationError, duckdb.Error, OSError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: what was committed is kept; run the command again to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.command("run")
@friendly_errors
def run_command(
    db: DbOption = None,
    input_dir: Annotated[
        Path | None,
        typer.Option("--input", help="Folder of saved responses [default: the bundled sample]."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where reports are written.")] = Path(
        "reports"
    ),
    as_of: AsOfOption = None,
) -> None:
    """Run the whole pipeline (harvest, normalize, link, assess, report) and print a summary."""
    summary = run(db, input_dir, out_dir, as_of.date() if as_of else None)
    _print_summary(summary)


@app.command("harvest")
@friendly_errors
def harvest_command(
    source: Annotated[str, typer.Argument(help="musicbrainz, internetarchive, loc or commons.")],
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input", help="Read saved responses from this folder instead of the network."
        ),
    ] = None,
    recording: Annotated[
        list[str] | None, typer.Option(help="Recording MBID (repeatable).")
    ] = None,
    release: Annotated[list[str] | None, typer.Option(help="Release MBID (repeatable).")] = None,
    artist: Annotated[
        list[str] | None, typer.Option(help="Artist MBID: its life span (repeatable).")
    ] = None,
    writers: Annotated[
        bool,
        typer.Option(
            "--writers",
            help="Afterwards, look up the writers of the harvested works whose life span "
            "is not known yet (composition rights need their death years).",
        ),
    ] = False,
    label: Annotated[list[str] | None, typer.Option(help="Label MBID: all its releases.")] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option(
            help="musicbrainz: collection MBID (all its releases); internetarchive: "
            "collection identifier, e.g. georgeblood; loc: collection slug, e.g. "
            "national-jukebox (all its items)."
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option(
            help='musicbrainz: recording search, e.g. "format:Shellac"; internetarchive: '
            "a search, or with --collection what narrows it; loc: a search."
        ),
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option(help="internetarchive or loc: item identifier (repeatable)."),
    ] = None,
    items: Annotated[
        bool,
        typer.Option(
            "--items",
            help="internetarchive: afterwards, fetch the metadata of every item the searches "
            "listed and not fetched yet (files, audio length).",
        ),
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="internetarchive: only items added since this date."
        ),
    ] = None,
    mbid_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="File of lines '<recording|release|artist> MBID'."),
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(envvar="PRESERVATION_CONTACT", help="Your e-mail or URL, for the user agent."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="Service root: a mirror [default: the public server]."),
    ] = None,
    interval: Annotated[
        float, typer.Option(help="Seconds between requests (at least 1 for musicbrainz.org).")
    ] = 1.0,
    db: DbOption = None,
) -> None:
    """Harvest one source: saved responses (--input), or live from its public service.

    Each response is stored as received in raw_records; an interrupted live harvest resumes
    where it stopped. Run `preservation normalize` (or `run`) afterwards.
    """
    results = []
    with closing(store.connect(db)) as con:
        if input_dir is not None:
            results.append(harvest_folder(con, source, input_dir, input_dir.parent))
        else:
            live = get_live(source)
            day = since.date().isoformat() if since else None
            options = HarvestOptions(
                contact or "",
                base_url,
                interval,
                collection or [],
                query or [],
                item or [],
                day,
                recording or [],
                release or [],
                artist or [],
                label or [],
                mbid_file,
                follow_up=writers or items,
            )
            client = live.client(options)
            if scopes := live.scopes(options):
                results.append(harvest_live(con, source, scopes, client))
            if follow := live.follow_up(con, options):
                results.append(harvest_live(con, source, follow, client))
    for result in results:
        out.print(
            f"{source}: {result.payloads} responses ({result.entities} entities), "
            f"{result.new_payloads} new, {result.quarantined} quarantined (run {result.run_id})"
        )


@app.command("import-dump")
@friendly_errors
def import_dump_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="A MusicBrainz JSON dump: recording.tar.xz (or release, work, artist), "
            "an extracted mbdump/<entity> file, or a folder holding mbdump/."
        ),
    ],
    entity: Annotated[
        str | None,
        typer.Option(help="Import only this entity (recording, release, work, artist)."),
    ] = None,
    chunk_mb: Annotated[
        int, typer.Option(min=1, help="Lines are parsed and committed in chunks of this size.")
    ] = CHUNK_BYTES // 2**20,
    db: DbOption = None,
) -> None:
    """Import MusicBrainz JSON data dumps into the same tables as a live harvest.

    The archive is read as a stream (no extraction to disk). Each chunk commits with its
    resume point, so an interrupted import continues where it stopped when run again.
    Malformed lines are quarantined with their line number (query: quarantined).
    """
    with closing(store.connect(db)) as con:
        result = import_dump(con, path, entity, chunk_mb * 2**20)
        counts = store.table_counts(con)
    for done in result.entities:
        resumed = f", resumed at line {done.resumed_at_line + 1:,}" if done.resumed_at_line else ""
        out.print(
            f"{done.member}: {done.lines:,} lines -> {done.staged:,} {done.entity}s staged, "
            f"{done.quarantined:,} quarantined{resumed}"
        )
    out.print(
        f"merged: {counts['recordings']:,} recordings, {counts['holdings']:,} holdings, "
        f"{counts['works']:,} works, {counts['artists']:,} artists (run {result.run_id})"
    )


@app.command("normalize")
@friendly_errors
def normalize_command(db: DbOption = None) -> None:
    """Rebuild recordings, holdings and works from the harvested payloads."""
    with closing(store.connect(db)) as con:
        result = normalize(con)
    out.print(
        f"{result.payloads} payloads -> {result.records} records, {result.holdings} holdings, "
        f"{result.works} works; {result.quarantined} quarantined, "
        f"{sum(result.skipped.values())} skipped"
    )


@link_app.callback(invoke_without_command=True)
@friendly_errors
def link_command(
    ctx: typer.Context,
    db: DbOption = None,
    accept: Annotated[
        float, typer.Option(help="Match probability at or above which a pair links.")
    ] = DEFAULT_ACCEPT,
    review: Annotated[
        float, typer.Option(help="Match probability at or above which a pair goes to review.")
    ] = DEFAULT_REVIEW,
    model: Annotated[
        bool, typer.Option(help="Score pairs with the probabilistic model (else identifiers).")
    ] = True,
) -> None:
    """Group records of the same recording into clusters (subcommands: explain, evaluate,
    review)."""
    if ctx.invoked_subcommand is not None:
        return
    if not 0 < review <= accept < 1:
        raise typer.BadParameter("expected 0 < --review <= --accept < 1")
    with closing(store.connect(db)) as con:
        result = link(con, LinkOptions(accept=accept, review=review, probabilistic=model))
    out.print(link_summary(result), highlight=False)


def link_summary(result: LinkResult) -> str:
    methods = ", ".join(f"{n} {method}" for method, n in sorted(result.by_method.items()))
    text = f"{result.records} records, {result.links} links ({methods or 'none'}) -> "
    text += f"{result.clusters} clusters"
    if result.trained:
        text += (
            f"; model ({result.trained}) scored {result.candidate_pairs:,} candidate pairs, "
            f"{result.review} to review ({result.refused} refused as chains)"
        )
    return text


@link_app.command("explain")
@friendly_errors
def link_explain_command(
    cluster_or_record: Annotated[str, typer.Argument(help="A cluster id or a record id.")],
    db: DbOption = None,
) -> None:
    """Why records were joined: the records, each link with its evidence, and for the
    model's links each field's weight, the prior, the total and the thresholds."""
    with closing(store.connect_read_only(db)) as con:
        found = explain(con, cluster_or_record)
    say = functools.partial(out.print, highlight=False)
    say(f"cluster {found.cluster_id}: {len(found.records)} record(s)")
    for record_id, title, when, label, catalog, matrix in found.records:
        disc = " ".join(x for x in (label, catalog, f"matrix {matrix}" if matrix else "") if x)
        say(f"  {record_id}  {title!r} {when} {disc}".rstrip())
    if not found.links:
        say("  not joined to any other record")
    for a, b, method, rule, evidence in found.links:
        say(f"  {a} = {b}: {method} rule {rule}, evidence {evidence}")
        _say_weights(say, found, (a, b))
    for a, b, probability, outcome, reason in found.unlinked:
        say(f"  {a} ? {b}: {outcome}, match probability {probability:.4f}: {reason}")
        _say_weights(say, found, (a, b))


def _say_weights(say: Callable[[str], None], found: Explanation, pair: tuple[str, str]) -> None:
    weights = found.weights.get(pair)
    if not weights or found.thresholds is None:
        return
    t = found.thresholds
    total = t.prior_weight + sum(w for *_, w in weights)
    rows = [
        *weights,
        ("prior", f"about one counterpart per record ({t.trained})", t.prior_weight),
        ("total", f"links at probability >= {t.accept}, review from {t.review}", total),
    ]
    for name, level, weight in rows:
        say(f"      {name:<9} {level:<50} {weight:+7.2f}")


@link_app.command("review")
@friendly_errors
def link_review_command(
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the review queue to this CSV.")
    ] = None,
    import_: Annotated[
        Path | None,
        typer.Option("--import", help="Read decisions (same/different) from a filled CSV."),
    ] = None,
    db: DbOption = None,
) -> None:
    """The review queue: pairs the model was unsure of, or refused as chains. Export it,
    fill in `decision` (same / different), import it: the next `preservation link` obeys."""
    if (export is None) == (import_ is None):
        raise typer.BadParameter("give one of --export FILE or --import FILE")
    if export is not None:
        with closing(store.connect_read_only(db)) as con:
            count = export_review(con, export)
        out.print(f"wrote {count} pair(s) to review to {export}", highlight=False)
        return
    assert import_ is not None
    with closing(store.connect(db)) as con:
        result = import_decisions(con, import_)
    out.print(
        f"{result.same} same, {result.different} different, {result.blank} left blank: "
        "stored; they take effect at the next `preservation link`",
        highlight=False,
    )


@link_app.command("evaluate")
@friendly_errors
def link_evaluate_command(
    gold: Annotated[
        Path, typer.Option(help="CSV of record_a, record_b, same (true/false): known pairs.")
    ],
    db: DbOption = None,
) -> None:
    """Pair precision, recall and F1 of the current clusters against a gold file."""
    pairs = read_gold(gold)
    with closing(store.connect_read_only(db)) as con:
        result = evaluate(con, pairs)

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    out.print(
        f"{result.gold_pairs} gold pairs ({result.unusable} with a record not in the database): "
        f"precision {share(result.precision)}, recall {share(result.recall)}, "
        f"F1 {share(result.f1)} (TP {result.true_positives}, FP {result.false_positives}, "
        f"FN {result.false_negatives}, TN {result.true_negatives}); "
        f"{result.entities_whole} of {result.entities} gold recordings whole in one cluster",
        highlight=False,
    )
    for a, b in result.missed:
        out.print(f"  missed: {a} = {b}", highlight=False)
    for a, b in result.wrongly_joined:
        out.print(f"  wrongly joined: {a} = {b}", highlight=False)


@app.command("assess")
@friendly_errors
def assess_command(
    db: DbOption = None,
    as_of: AsOfOption = None,
    demand: Annotated[
        Path | None,
        typer.Option(
            help="Listens per MusicBrainz recording (ListenBrainz popularity: .json, .csv or "
            ".parquet with recording_mbid, total_listen_count); replaces the stored demand "
            "and raises the score of recordings people still listen to.",
        ),
    ] = None,
) -> None:
    """Compute rights status and risk of loss for every cluster."""
    with closing(store.connect(db)) as con:
        if demand is not None:
            loaded = load_demand(con, demand)
            out.print(
                f"demand: {loaded.loaded:,} recordings from {loaded.source}"
                + (f", {loaded.quarantined} rows quarantined" if loaded.quarantined else "")
            )
        result = assess(con, as_of.date() if as_of else None)
    out.print(f"{result.clusters} clusters assessed as of {result.as_of}: {result.at_risk} at risk")


@app.command("report")
@friendly_errors
def report_command(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where reports are written.")] = Path(
        "reports"
    ),
) -> None:
    """Write at-risk.html and the acquisition list (CSV and JSON)."""
    with closing(store.connect(db)) as con:
        paths = write_reports(con, out_dir)
    for path in paths:
        out.print(str(path))


@app.command("query")
@friendly_errors
def query_command(
    name: Annotated[str | None, typer.Argument(help="Query name; omit to list them.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter as key=value.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    max_rows: MaxRowsOption = None,
    allow_write: AllowWriteOption = False,
    db: DbOption = None,
) -> None:
    """Run a named query from queries/ (read-only unless --allow-write), or list them."""
    if name is None:
        for query in load_queries().values():
            out.print(f"[bold]{query.name}[/bold]: {query.question}", highlight=False)
        return
    given = dict(_key_value(p) for p in param or [])
    _warn_if(allow_write)
    with closing(open_database(db, allow_write)) as con:
        _emit(stream_query(con, name, given, allow_write), fmt, max_rows)


@app.command("sql")
@friendly_errors
def sql_command(
    sql: Annotated[str, typer.Argument(help="SELECT statement(s) to run.")],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    max_rows: MaxRowsOption = None,
    allow_write: AllowWriteOption = False,
    db: DbOption = None,
) -> None:
    """Run ad-hoc SQL, read-only: writes, ATTACH, COPY, SET, INSTALL/LOAD and file access are
    refused unless --allow-write is given."""
    _warn_if(allow_write)
    with closing(open_database(db, allow_write)) as con:
        _emit(stream_sql(con, sql, allow_write=allow_write), fmt, max_rows)


def _warn_if(allow_write: bool) -> None:
    if allow_write:
        err.print(WRITE_WARNING, highlight=False, markup=False)


@rights_app.command("check")
@friendly_errors
def rights_check_command(
    jurisdiction: Annotated[
        str, typer.Option(help=f"One of {', '.join(rights.jurisdictions())}.")
    ] = "US",
    kind: Annotated[Layer, typer.Option(help="The sound recording or the musical work.")] = (
        Layer.recording
    ),
    published: Annotated[int | None, typer.Option(help="Year of first publication.")] = None,
    fixed: Annotated[int | None, typer.Option(help="Year of recording (fixation).")] = None,
    composer_died: Annotated[
        int | None, typer.Option(help="Year the last surviving author of the work died.")
    ] = None,
    as_of: AsOfOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Is a recording or a work public domain in a jurisdiction on a date? With the rule that
    decided and its source. Information, not legal advice."""
    on = as_of.date() if as_of else date.today()
    facts = rights.Facts(published=published, fixed=fixed, died=composer_died)
    try:
        verdict = rights.status(jurisdiction, kind.value, facts, on)
    except ValueError as exc:
        raise PreservationError(str(exc)) from exc
    result = {
        "jurisdiction": jurisdiction,
        "kind": kind.value,
        "as_of": on.isoformat(),
        "status": verdict.status,
        "expires_year": verdict.expires_year,
        "rule": verdict.rule_id,
        "reasons": verdict.reasons,
    }
    if fmt is Format.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    _print_verdict(f"{kind.value} in {jurisdiction} as of {on}", verdict)


@rights_app.command("explain")
@friendly_errors
def rights_explain_command(
    target: Annotated[str, typer.Argument(help="A cluster id, or a record id in one.")],
    db: DbOption = None,
) -> None:
    """Why a cluster is (or is not) public domain: per jurisdiction and layer, the verdict,
    the deciding rule and the reasons, as the last `assess` found them."""
    with closing(store.connect_read_only(db)) as con:
        found = explain_rights(con, target)
    out.print(f"[bold]{found.cluster_id}[/bold] {found.title or ''} (as of {found.as_of})")
    for (jurisdiction, layer), verdict in found.verdicts.items():
        _print_verdict(f"{layer} in {jurisdiction}", verdict)


def _print_verdict(what: str, verdict: rights.Verdict) -> None:
    expires = f", last protected year {verdict.expires_year}" if verdict.expires_year else ""
    out.print(
        f"[bold]{verdict.status}[/bold]: {what} (rule {verdict.rule_id}{expires})",
        highlight=False,
    )
    for reason in verdict.reasons:
        out.print(f"  - {reason}", highlight=False)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"preservation {__version__}")
        raise typer.Exit()


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise PreservationError(f"--param takes key=value, got {text!r}")
    return key, value


def _emit(result: QueryResult, fmt: Format, max_rows: int | None) -> None:
    """Write a result's rows as they are fetched (csv and json stream; a table is laid out
    whole, so it is cut at TABLE_MAX_ROWS unless max_rows says otherwise), then say on stderr
    when rows were left out."""
    limit = TABLE_MAX_ROWS if max_rows is None and fmt is Format.table else max_rows
    rows = islice(result.rows, limit)
    if fmt is Format.json:
        # the text json.dumps(list, indent=1) gives, one object at a time
        opening = "["
        for row in rows:
            record = json.dumps(
                dict(zip(result.columns, row, strict=True)),
                ensure_ascii=False,
                default=str,
                indent=1,
            )
            sys.stdout.write(f"{opening}\n{textwrap.indent(record, ' ')}")
            opening = ","
        sys.stdout.write("[]\n" if opening == "[" else "\n]\n")
    elif fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        for row in rows:
            writer.writerow(";".join(map(str, v)) if isinstance(v, list) else v for v in row)
    else:
        table = Table(*result.columns, show_lines=False)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
    if limit is not None and next(result.rows, None) is not None:
        more = (
            "--max-rows sets how many"
            if max_rows is not None
            else "--max-rows sets how many, and --format csv or json gives every row"
        )
        err.print(f"only the first {limit:,} rows are shown: {more}", highlight=False)


def _print_summary(summary: RunSummary) -> None:
    out.print(f"[bold]preservation run[/bold] -> {summary.db}")
    for h in summary.harvests:
        out.print(
            f"  harvest {h.source}: {h.payloads} payloads ({h.new_payloads} new, "
            f"{h.quarantined} quarantined)"
        )
    if summary.unknown_folders:
        out.print(f"  skipped folders naming no source: {', '.join(summary.unknown_folders)}")
    n = summary.normalized
    if n is not None:
        out.print(
            f"  normalize: {n.records} records, {n.holdings} holdings, {n.works} works; "
            f"{n.quarantined} quarantined; {sum(n.skipped.values())} payloads skipped"
        )
        for reason, count in sorted(n.skipped.items()):
            out.print(f"    skipped {count} x {reason}", highlight=False)
    if summary.linked:
        out.print(f"  link: {link_summary(summary.linked)}", highlight=False)
    if summary.assessed:
        a = summary.assessed
        out.print(f"  assess (as of {a.as_of}): {a.at_risk} of {a.clusters} clusters at risk")
    quarantined = summary.tables.get("quarantine", 0)
    out.print(f"  quarantine: {quarantined} payloads kept with their reasons (query: quarantined)")
    for path in summary.reports:
        out.print(f"  wrote {path}")


# --- preservation partitions: assess one partition of the catalogue at a time ----------------
# (partitioned.py; imported in the commands, so that other commands do not load it)

partitions_app = typer.Typer(
    help="Assess a catalogue too big for one machine: export whole clusters to partitioned "
    "Parquet, assess each partition in a database of its own, import the results.",
    no_args_is_help=True,
)
app.add_typer(partitions_app, name="partitions")


@partitions_app.command("export")
@friendly_errors
def partitions_export_command(
    out_dir: Annotated[Path, typer.Argument(help="New or empty folder for the Parquet files.")],
    db: DbOption = None,
    partitions: Annotated[
        int, typer.Option(min=1, help="How many partitions (hash of the cluster id).")
    ] = 8,
) -> None:
    """Write the tables assess reads as Hive-partitioned Parquet, each cluster whole in one."""
    from preservation.partitioned import export_partitions

    with closing(store.connect(db)) as con:
        result = export_partitions(con, out_dir, partitions)
    rows = ", ".join(f"{table} {n:,}" for table, n in result.rows.items())
    out.print(f"{result.partitions} partitions in {out_dir} (rows: {rows})", highlight=False)


@partitions_app.command("assess")
@friendly_errors
def partitions_assess_command(
    in_dir: Annotated[Path, typer.Argument(help="Folder written by `partitions export`.")],
    out_dir: Annotated[Path, typer.Option("--out", help="New or empty folder for the results.")],
    as_of: AsOfOption = None,
) -> None:
    """Run assess on each partition in a database of its own; write its results as Parquet."""
    from preservation.partitioned import assess_partitions

    result = assess_partitions(in_dir, out_dir, as_of.date() if as_of else None)
    out.print(
        f"{result.clusters} clusters in {result.partitions} partitions assessed as of "
        f"{result.as_of}: {result.at_risk} at risk"
    )


@partitions_app.command("import")
@friendly_errors
def partitions_import_command(
    in_dir: Annotated[Path, typer.Argument(help="Folder written by `partitions assess`.")],
    db: DbOption = None,
) -> None:
    """Replace cluster_facts, rights_verdicts and risk with a partitioned assessment."""
    from preservation.partitioned import import_partitions

    with closing(store.connect(db)) as con:
        result = import_partitions(con, in_dir)
    out.print(f"{result.clusters} clusters as of {result.as_of}: {result.at_risk} at risk")
