"""`qc users add|list`, `qc serve`: the reviewer workbench (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from qc.commands.base import DB_HELP, app, _db, _fail


users_app = typer.Typer(help="Accounts for the reviewer workbench (qc serve).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Login name (no spaces)."),
    role: str = typer.Option(..., "--role", help="reviewer, lead, agent or admin."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database the workbench serves ({DB_HELP})."),
    team: Optional[str] = typer.Option(None, "--team", help="A lead's team (班组): they see that team only."),
    agent_id: Optional[str] = typer.Option(None, "--agent-id", help="An agent's 工号 (default: the login name)."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="QC_USER_PASSWORD", help="Prompted for when not given (or $QC_USER_PASSWORD)."),
    replace: bool = typer.Option(False, "--replace", help="Change an existing user's role, team or password."),
    unmask: bool = typer.Option(False, "--unmask", help="A reviewer or lead may unmask personal data (logged; admins always may)."),
) -> None:
    """Add a workbench user; the password is stored as a scrypt hash."""
    db = _db(db)
    from qc.serve.store import ReviewStore, StoreError

    try:
        with ReviewStore(db) as store:
            user = store.add_user(name, role, password, team=team, agent_id=agent_id, replace=replace, unmask=unmask)
    except StoreError as e:
        _fail(str(e))
    extra = f", team {user.team}" if user.team else ""
    extra += f", agent id {user.agent_id}" if user.agent_id else ""
    extra += ", may unmask personal data" if user.may_unmask else ""
    typer.echo(f"user {user.name} ({user.role}{extra}) saved in {db}")


@users_app.command("list")
def users_list(db: Optional[Path] = typer.Option(None, "--db", help=f"History database ({DB_HELP}).")) -> None:
    """List workbench users and their roles."""
    db = _db(db)
    from qc.serve.store import ReviewStore

    with ReviewStore(db) as store:
        for u in store.users():
            typer.echo(f"{u.name}\t{u.role}\t{u.team or ''}\t{u.agent_id or ''}{chr(9) + 'unmask' if u.may_unmask else ''}")


@app.command("serve")
def serve(
    nights: List[Path] = typer.Argument(..., help="Night folders (what qc score --out wrote: calls/*.json, night.json)."),
    db: Optional[Path] = typer.Option(None, "--db", help=f"History database: users, claims, reviews, disputes live here too ({DB_HELP})."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    scorecard: Optional[Path] = typer.Option(None, "--scorecard", help="Scorecard for reviewed scores (default: scorecards/default.yaml)."),
    audio_root: List[Path] = typer.Option([], "--audio-root", help="Another folder the recordings may be served from."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Mark cookies Secure (when behind an HTTPS proxy)."),
) -> None:
    """Run the reviewer workbench: queue, call review with audio, disputes, calibration."""
    db = _db(db)
    try:
        import uvicorn

        from qc.serve.app import ServeConfig, create_app
    except ImportError as e:
        _fail(f"qc serve needs the serve extra ({e.name} is missing): pip install 'qc[serve]'")
    from qc.scoring import ScorecardError
    from qc.serve.auth import SecretError
    from qc.serve.nights import NightError
    from qc.serve.store import ReviewStore

    with ReviewStore(db) as store:
        if not store.users():
            _fail(f"{db} has no users yet; add one first: qc users add NAME --role admin --db {db}")
    try:
        application = create_app(ServeConfig(nights=list(nights), db=db, scorecard=scorecard, audio_roots=list(audio_root),
                                             secure_cookies=secure_cookies))
    except (NightError, ScorecardError, SecretError) as e:
        _fail(str(e))
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host}: anyone who can reach this address sees the login page; use HTTPS in front", err=True)
    typer.echo(f"qc serve: http://{host}:{port}/  ({len(nights)} night(s), database {db})", err=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")
