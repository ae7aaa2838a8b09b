"""Provision tempest's accounts in a running Pier and write the tempest workspace files.

Run with Pier's venv (`run.sh` does).  `--rbac advanced` (the default): every account is made
with `pier identity ...`, one project per account (the RBAC tests expect member2 and the
observers not to see member's objects), `copies` full sets for `tempest run --concurrency
copies`, listed in etc/accounts.yaml.  `--rbac keystone_default_roles`: only an admin account
is provisioned; tempest creates every other project, user and role assignment itself through
Pier's identity API (dynamic credentials).
See shared/spec/clients.md §4 for why each setting is what it is.
"""

import argparse
import contextlib
import io
import json
from pathlib import Path

from pier.api.routes.providers import DESCRIPTIONS
from pier.cli.main import main as pier_cli

PASSWORD = "secret"  # noqa: S105 - throwaway accounts of a throwaway data dir

# (user, project, roles).  The two helper accounts in the primary's project are never
# allocated: they make that project score best for tempest's `primary` (clients.md §4.2,
# pitfall 1), so `primary` cannot grab an lb_member account, which also holds `member`.
ACCOUNTS = (
    ("primary", "primary", ["member"]),
    ("primary-reader", "primary", ["reader"]),
    ("primary-manager", "primary", ["manager"]),
    ("admin", "admin", ["admin"]),
    ("lb-admin", "lb-admin", ["load-balancer_admin"]),
    ("lb-observer", "lb-observer", ["load-balancer_observer", "reader"]),
    ("lb-global-observer", "lb-global-observer", ["load-balancer_global_observer", "reader"]),
    ("lb-member", "lb-member", ["load-balancer_member", "member"]),
    ("lb-member2", "lb-member2", ["load-balancer_member", "member"]),
)

ADVANCED = "advanced"
KEYSTONE_DEFAULT_ROLES = "keystone_default_roles"

AUTH_ACCOUNTS = """\
use_dynamic_credentials = false
test_accounts_file = {workspace}/etc/accounts.yaml
"""

AUTH_DYNAMIC = """\
use_dynamic_credentials = true
admin_username = {username}
admin_password = {password}
admin_project_name = {project_name}
admin_domain_name = Default
"""

TEMPEST_CONF = """\
[DEFAULT]
log_file = {workspace}/tempest.log

[auth]
{auth}default_credentials_domain_name = Default
create_isolated_networks = false

[identity]
auth_version = v3
uri_v3 = {url}/identity/v3
region = RegionOne
v3_endpoint_type = public
disable_ssl_certificate_validation = true

[identity-feature-enabled]
api_v2 = false
api_v3 = true

[service_available]
load_balancer = true
neutron = false
nova = false
glance = false
cinder = false
swift = false
barbican = false

[network]
project_networks_reachable = true

[network-feature-enabled]
port_security = false

[load_balancer]
region = RegionOne
catalog_type = load-balancer
endpoint_type = public
test_with_noop = true
RBAC_test_type = {rbac}
log_user_roles = false
provider = octavia
enabled_provider_drivers = {providers}
test_with_ipv6 = true
# Pier's worker converges in milliseconds: poll often (Octavia's noop gate uses 0.5 s).
build_interval = 0.25
build_timeout = 60
check_interval = 0.25
check_timeout = 60
lb_build_interval = 0.25
lb_build_timeout = 60
# Octavia's own noop gate (octavia-dsvm-noop-base) names AZs that need not exist: the
# AZ tests put them in AZ profiles (`compute_zone: null` is rightly refused otherwise).
availability_zone = bogus-az-1
availability_zone2 = bogus-az-2
availability_zone3 = bogus-az-3

[loadbalancer-feature-enabled]
terminated_tls_enabled = false
log_offload_enabled = false
spare_pool_enabled = false

[oslo_concurrency]
lock_path = {workspace}/tempest_lock
"""


def _identity(data_dir: Path, *args: str) -> None:
    printed = io.StringIO()  # the new ids; not worth showing
    with contextlib.redirect_stdout(printed):
        code = pier_cli(["--log-level", "WARNING", "identity", *args, "--data-dir", str(data_dir)])
    if code != 0:
        raise SystemExit(f"pier identity {' '.join(args)} failed ({code}):\n{printed.getvalue()}")


def provision(data_dir: Path, copies: int) -> list[dict[str, object]]:
    """Create `copies` sets of the accounts; returns tempest's accounts.yaml entries."""
    entries: list[dict[str, object]] = []
    for copy in range(1, copies + 1):
        suffix = "" if copy == 1 else f"-{copy}"
        for project in dict.fromkeys(project for _, project, _ in ACCOUNTS):
            _identity(data_dir, "project", "create", f"tempest-{project}{suffix}")
        for user, project, roles in ACCOUNTS:
            username, project_name = f"tempest-{user}{suffix}", f"tempest-{project}{suffix}"
            role_args = [arg for role in roles for arg in ("--role", role)]
            _identity(
                data_dir, "user", "create", username, "--password", PASSWORD,
                "--project", project_name, *role_args,
            )  # fmt: skip
            entry: dict[str, object] = {
                "username": username,
                "project_name": project_name,
                "password": PASSWORD,
                "domain_name": "Default",
                "roles": roles,
            }
            if "admin" in roles:
                entry["types"] = ["admin"]
            entries.append(entry)
    return entries


def provision_admin(data_dir: Path) -> dict[str, object]:
    """The one account dynamic credentials need: tempest's admin, with the `admin` role."""
    _identity(data_dir, "project", "create", "tempest-admin")
    _identity(
        data_dir, "user", "create", "tempest-admin", "--password", PASSWORD,
        "--project", "tempest-admin", "--role", "admin",
    )  # fmt: skip
    return {"username": "tempest-admin", "project_name": "tempest-admin", "password": PASSWORD}


def write_workspace(
    workspace: Path,
    url: str,
    rbac: str,
    entries: list[dict[str, object]] | None = None,
    admin: dict[str, object] | None = None,
) -> None:
    """`entries` (accounts.yaml) for pre-provisioned accounts, else `admin` for dynamic ones."""
    etc = workspace / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (workspace / "tempest_lock").mkdir(exist_ok=True)
    if entries is not None:
        # JSON is YAML: no YAML library needed on Pier's side.
        text = json.dumps(entries, indent=2) + "\n"
        (etc / "accounts.yaml").write_text(text, encoding="utf-8")
        auth = AUTH_ACCOUNTS.format(workspace=workspace)
    else:
        assert admin is not None
        auth = AUTH_DYNAMIC.format(**admin)
    providers = ",".join(f"{name}:{text}" for name, text in DESCRIPTIONS.items())
    conf = TEMPEST_CONF.format(
        workspace=workspace, url=url, providers=providers, auth=auth, rbac=rbac
    )
    (etc / "tempest.conf").write_text(conf, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="Pier's base URL")
    parser.add_argument("--data-dir", type=Path, required=True, help="the running Pier's")
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=1, help="one account set per worker")
    parser.add_argument(
        "--rbac",
        choices=(ADVANCED, KEYSTONE_DEFAULT_ROLES),
        default=ADVANCED,
        help="[load_balancer] RBAC_test_type; keystone_default_roles uses dynamic credentials",
    )
    args = parser.parse_args()
    workspace, url = args.workspace.resolve(), args.url.rstrip("/")
    if args.rbac == KEYSTONE_DEFAULT_ROLES:
        write_workspace(workspace, url, args.rbac, admin=provision_admin(args.data_dir))
    else:
        entries = provision(args.data_dir, args.copies)
        write_workspace(workspace, url, args.rbac, entries=entries)


if __name__ == "__main__":
    main()
