"""`pier identity ...` (projects, users, role grants, application credentials) and the
`pier clouds-yaml` / `pier openrc` printers for the files bootstrap wrote.

These work on the database directly, so an operator can repair access with the API down.
"""

import argparse
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from pier.api.identity import changes, store
from pier.api.identity.bootstrap import ensure_default_roles
from pier.api.identity.clouds import CLOUDS_FILE, openrc_path
from pier.cli.options import add_common_options, settings_from_args
from pier.db.engine import make_engine, make_session_factory, transaction
from pier.db.tables.identity import Project, Role, User
from pier.domain.errors import NotFound, PierError

Handler = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse's _SubParsersAction is private


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[Session]:
    """One transaction on the configured database, with the default roles present."""
    engine = make_engine(settings_from_args(args).sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            ensure_default_roles(session)
            yield session
    finally:
        engine.dispose()


def _guarded(handler: Callable[[argparse.Namespace, Session], None]) -> Handler:
    """Run `handler` in a transaction; a Pier error is printed and exits 1, nothing written."""

    def run(args: argparse.Namespace) -> int:
        try:
            with _session(args) as session:
                handler(args, session)
        except PierError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        return 0

    return run


def _project(session: Session, ref: str) -> Project:
    project = store.find_project_by_name_or_id(session, ref)
    if project is None:
        raise NotFound(f"no project {ref}")
    return project


def _user(session: Session, ref: str) -> User:
    user = store.find_user_by_name_or_id(session, ref)
    if user is None:
        raise NotFound(f"no user {ref}")
    return user


def _role(session: Session, ref: str) -> Role:
    role = store.find_role_by_name_or_id(session, ref)
    if role is None:
        raise NotFound(f"no role {ref}")
    return role


def project_create(args: argparse.Namespace, session: Session) -> None:
    project = changes.create_project(session, args.name, description=args.description)
    print(f"{project.id} {project.name}")


def project_list(args: argparse.Namespace, session: Session) -> None:
    for project in store.list_projects(session):
        print(f"{project.id} {project.name}")


def project_delete(args: argparse.Namespace, session: Session) -> None:
    changes.delete_project(session, _project(session, args.project))


def user_create(args: argparse.Namespace, session: Session) -> None:
    project = _project(session, args.project) if args.project else None
    password = args.password or secrets.token_urlsafe(24)
    user = changes.create_user(
        session, args.name, password, default_project_id=project.id if project else None
    )
    if project is not None:
        for name in args.role or ["member"]:
            changes.assign_role(session, user.id, project.id, _role(session, name).id)
    print(f"{user.id} {user.name}")
    if not args.password:
        print(f"password: {password}")


def user_list(args: argparse.Namespace, session: Session) -> None:
    for user in store.list_users(session):
        print(f"{user.id} {user.name}")


def user_delete(args: argparse.Namespace, session: Session) -> None:
    changes.delete_user(session, _user(session, args.user))


def role_add(args: argparse.Namespace, session: Session) -> None:
    changes.assign_role(
        session,
        _user(session, args.user).id,
        _project(session, args.project).id,
        _role(session, args.role).id,
    )


def role_remove(args: argparse.Namespace, session: Session) -> None:
    user, project, role = (
        _user(session, args.user),
        _project(session, args.project),
        _role(session, args.role),
    )
    if not changes.unassign_role(session, user.id, project.id, role.id):
        raise NotFound(f"{args.user} has no role {args.role} on {args.project}")


def appcred_create(args: argparse.Namespace, session: Session) -> None:
    user, project = _user(session, args.user), _project(session, args.project)
    held = store.effective_roles(session, user.id, project.id)
    wanted = args.role or [role.name for role in held]
    missing = set(wanted) - {role.name for role in held}
    if not held or missing:
        raise NotFound(
            f"{args.user} does not hold {sorted(missing) or 'any role'} on {args.project}"
        )
    role_ids = [role.id for role in held if role.name in wanted]
    cred, secret = changes.create_application_credential(
        session, user, project.id, args.name, role_ids
    )
    print(f"id: {cred.id}")
    print(f"secret: {secret}")


def _print_file(args: argparse.Namespace, name: str) -> int:
    path = settings_from_args(args).data_dir / name
    try:
        sys.stdout.write(path.read_text(encoding="utf-8"))
    except OSError as exc:
        print(
            f"error: cannot read {path} ({exc.strerror}); has `pier up` run with this --data-dir?",
            file=sys.stderr,
        )
        return 1
    return 0


def clouds_yaml(args: argparse.Namespace) -> int:
    return _print_file(args, CLOUDS_FILE)


def openrc(args: argparse.Namespace) -> int:
    if "/" in args.user or args.user.startswith("."):
        print(f"error: not a user name: {args.user}", file=sys.stderr)
        return 1
    return _print_file(args, openrc_path(settings_from_args(args).data_dir, args.user).name)


def _leaf(parent: Subparsers, name: str, handler: Handler, help_text: str) -> Any:
    parser = parent.add_parser(name, help=help_text)
    add_common_options(parser)
    parser.set_defaults(handler=handler)
    return parser


def _register_projects(groups: Subparsers) -> None:
    verbs = groups.add_parser("project", help="projects").add_subparsers(required=True)
    create = _leaf(verbs, "create", _guarded(project_create), "create a project")
    create.add_argument("name")
    create.add_argument("--description", default="")
    _leaf(verbs, "list", _guarded(project_list), "list projects")
    _leaf(verbs, "delete", _guarded(project_delete), "delete a project").add_argument("project")


def _register_users(groups: Subparsers) -> None:
    verbs = groups.add_parser("user", help="users").add_subparsers(required=True)
    create = _leaf(verbs, "create", _guarded(user_create), "create a user")
    create.add_argument("name")
    create.add_argument("--password", help="default: a random one, printed once")
    create.add_argument("--project", help="default project, where --role is granted")
    create.add_argument("--role", action="append", help="repeatable; default: member")
    _leaf(verbs, "list", _guarded(user_list), "list users")
    _leaf(verbs, "delete", _guarded(user_delete), "delete a user").add_argument("user")


def _register_roles(groups: Subparsers) -> None:
    verbs = groups.add_parser("role", help="role grants on projects").add_subparsers(required=True)
    for verb, handler in (("add", role_add), ("remove", role_remove)):
        parser = _leaf(verbs, verb, _guarded(handler), f"{verb} a role grant")
        for option in ("--user", "--project", "--role"):
            parser.add_argument(option, required=True)


def _register_appcreds(groups: Subparsers) -> None:
    verbs = groups.add_parser("appcred", help="application credentials").add_subparsers(
        required=True
    )
    create = _leaf(
        verbs, "create", _guarded(appcred_create), "create one; prints its id and secret once"
    )
    for option in ("--user", "--project", "--name"):
        create.add_argument(option, required=True)
    create.add_argument("--role", action="append", help="repeatable; default: all held")


def register(subparsers: Subparsers) -> None:
    identity = subparsers.add_parser("identity", help="manage the embedded identity service")
    groups = identity.add_subparsers(dest="identity_command", required=True)
    _register_projects(groups)
    _register_users(groups)
    _register_roles(groups)
    _register_appcreds(groups)
    _leaf(subparsers, "clouds-yaml", clouds_yaml, "print the clouds.yaml bootstrap wrote")
    _leaf(subparsers, "openrc", openrc, "print an openrc file bootstrap wrote").add_argument(
        "--user", default="admin", help="admin or demo"
    )
