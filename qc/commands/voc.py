"""`qc voc ...`: voice of the customer (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import DB_HELP, app, _check_files, _db, _fail, _run_cases


voc_app = typer.Typer(help="Voice of the customer: taxonomy checks, tags, trends and the closed loop.", no_args_is_help=True)
app.add_typer(voc_app, name="voc")


@voc_app.command("check")
def voc_check(paths: List[Path] = typer.Argument(..., help="Taxonomy files or folders (voc/).")) -> None:
    """Validate VOC taxonomy files strictly; print every error as file:line:col: CODE message."""
    from qc.voc import check_taxonomy

    _check_files(paths, check_taxonomy, "tag")


@voc_app.command("test")
def voc_test(
    paths: List[Path] = typer.Argument(..., help="Taxonomy files or folders (voc/)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print passing cases too."),
) -> None:
    """Run every tag's `tests:` cases; print failures with file:line; exit 1 on any mismatch."""
    from qc.voc import check_taxonomy, run_tag_tests

    _run_cases(paths, check_taxonomy, run_tag_tests, verbose)


@voc_app.command("tag")
def voc_tag(
    transcripts: List[Path] = typer.Argument(..., help="Transcript JSON files, folders of them, or a night's results folder."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", "-t", help="Taxonomy file or folder (default: ./voc or the shipped one)."),
) -> None:
    """Print each call's tags, departments, resolution state and the customer's reason for calling."""
    import json

    from qc.run.store import CallResult
    from qc.transcript import TranscriptError, load_transcript
    from qc.voc import TaxonomyError, load_taxonomy, tag_call

    try:
        tax = load_taxonomy(taxonomy)
    except TaxonomyError as e:
        _fail(f"{len(e.errors)} problem(s) in the taxonomy:\n{e}", 1)
    files: list[Path] = []
    for p in transcripts:
        files.extend(sorted(p.rglob("*.json")) if p.is_dir() else [p])
    bad = 0
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "transcript" in data and "score" in data:  # a night's call result
                r = CallResult.from_dict(data)
                v = tag_call(r.transcript, tax, r.emotion)
            elif isinstance(data, dict) and "utterances" in data:
                v = tag_call(load_transcript(f), tax)
            else:
                continue  # night.json, findings, summaries
        except (TranscriptError, ValueError, KeyError, TypeError) as e:
            typer.echo(f"error: {f}: {e}", err=True)
            bad += 1
            continue
        state = "未解决" if not v.resolved else "已解决"
        typer.echo(f"{v.call_id}\t{','.join(v.codes) or '-'}\t{'、'.join(v.departments) or '-'}\t{state} ({v.unresolved:.2f})\t{v.quote()}")
    if bad:
        raise typer.Exit(2)


def _voc_store(db: Optional[Path]):
    from qc.voc.store import VocStore

    db = _db(db)
    if not db.exists():
        _fail(f"{db}: no history database; run qc score / qc report --db {db} first")
    return VocStore(db)


@voc_app.command("list")
def voc_list(
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database written by qc report ({DB_HELP})."),
    all_: bool = typer.Option(False, "--all", help="Closed items (完结 / 不采纳) too."),
    department: Optional[str] = typer.Option(None, "--department", "-d", help="Only this department's items."),
) -> None:
    """List closed-loop items: spikes and tag issues assigned to departments, with status and note."""
    with _voc_store(db) as store:
        items = store.items(include_closed=all_, department=department)
    if not items:
        typer.echo("no open VOC items" if not all_ else "no VOC items", err=True)
    for i in items:
        typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}\t{i.opened}..{i.last_seen}\t{i.note}")


@voc_app.command("update")
def voc_update(
    item: int = typer.Argument(..., help="Item number from `qc voc list`."),
    status: Optional[str] = typer.Option(None, "--status", "-s", help="待办 / 已采纳 / 完结 / 不采纳."),
    note: Optional[str] = typer.Option(None, "--note", "-n", help="What the department decided or did."),
    department: Optional[str] = typer.Option(None, "--department", "-d", help="Re-assign to this department."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP})."),
) -> None:
    """Update an item's status, note or department (the change is logged; closed items leave the report)."""
    from qc.voc.store import VocStoreError

    if status is None and note is None and department is None:
        _fail("give --status, --note or --department")
    with _voc_store(db) as store:
        try:
            i = store.update_item(item, status=status, note=note, department=department)
        except VocStoreError as e:
            _fail(str(e), 1)
    typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}\t{i.note}")


@voc_app.command("add")
def voc_add(
    tag: str = typer.Argument(..., help="Tag code (e.g. BILL01); its department owns the item."),
    title: str = typer.Argument(..., help="What the department should look at."),
    night: Optional[str] = typer.Option(None, "--night", help="Night YYYY-MM-DD (default: today)."),
    note: str = typer.Option("", "--note", "-n", help="A first note."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", "-t", help="Taxonomy (default: ./voc or the shipped one)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP})."),
) -> None:
    """Raise a tag issue by hand (a spike raises one itself), assigned to the tag's department as 待办."""
    from datetime import date

    from qc.voc import TaxonomyError, load_taxonomy
    from qc.voc.store import VocStore
    from qc.yamlfile import did_you_mean

    try:
        tax = load_taxonomy(taxonomy)
    except TaxonomyError as e:
        _fail(f"{len(e.errors)} problem(s) in the taxonomy:\n{e}", 1)
    codes = [t.code for t in tax]
    if tag not in codes:
        _fail(f"unknown tag {tag!r}{did_you_mean(tag, codes)}")
    t = tax.get(tag)
    with VocStore(db) as store:
        i = store.raise_item("tag", t.code, t.department, title, night or date.today().isoformat(), note)
    typer.echo(f"#{i.id}\t{i.status}\t{i.department}\t{i.title}")


@voc_app.command("trend")
def voc_trend(
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database written by qc report ({DB_HELP})."),
    by: str = typer.Option("tag", "--by", help="tag or department."),
    weeks: bool = typer.Option(False, "--weeks", help="Sum nights into ISO weeks."),
    last: int = typer.Option(14, "--last", help="Show this many nights (or weeks)."),
) -> None:
    """Print each tag's (or department's) share of calls night by night (or week by week), spikes marked *."""
    from rich.console import Console
    from rich.table import Table

    from qc.voc.trends import detect_spikes, weekly

    if by not in ("tag", "department"):
        _fail(f"--by {by!r}: use tag or department")
    db = _db(db)
    with _voc_store(db) as store:
        calls = dict(store.nights())
        series = store.tag_counts() if by == "tag" else store.department_counts()
    if not calls:
        _fail(f"{db}: no VOC nights stored yet; run qc report --db {db} first")
    spikes = {(s.key, n) for n in calls for s in detect_spikes(series, calls, n)} if not weeks else set()
    if weeks:
        series, calls = weekly(series, calls)
    periods = sorted(calls)[-last:]
    table = Table(title=f"VOC {'标签' if by == 'tag' else '部门'}占比 (%)")
    table.add_column(by)
    for p in periods:
        table.add_column(p[5:] if not weeks else p, justify="right")
    for key in sorted(series, key=lambda k: -sum(series[k].values())):
        cells = []
        for p in periods:
            n = series[key].get(p, 0)
            cells.append(f"{100 * n / calls[p]:.1f}{'*' if (key, p) in spikes else ''}" if calls[p] else "")
        table.add_row(key, *cells)
    Console().print(table)
