"""Planner transcripts: (spec, observed) -> actions, read top to bottom like a playbook."""

import itertools
from dataclasses import replace

import pytest

from pier.amphora.bundle import render_amphora_config
from pier.domain.enums import AmphoraRole, AmphoraStatus, ProvisioningStatus, Topology
from pier.domain.spec import LoadBalancerSpec
from pier.drivers.compute.base import ComputeState, config_version
from pier.worker.plan import (
    AMPHORA_LIMITS,
    Action,
    CreateAmphora,
    DeleteAmphora,
    ObservedAmphora,
    ObservedLoadBalancer,
    PushConfig,
    ReleaseVip,
    describe,
    plan,
)
from tests.support.factories import lb_spec, listener_spec

S, M, B = AmphoraRole.STANDALONE, AmphoraRole.MASTER, AmphoraRole.BACKUP
SINGLE = lb_spec(listeners=(listener_spec(id="listener-1"),))
PAIR = replace(SINGLE, topology=Topology.ACTIVE_STANDBY)
TEXT = render_amphora_config(SINGLE, AMPHORA_LIMITS).text
PAIR_TEXT = render_amphora_config(PAIR, AMPHORA_LIMITS).text
OLD = "0" * 64


def amp(
    amphora_id: str,
    role: AmphoraRole | None = S,
    status: AmphoraStatus = AmphoraStatus.ALLOCATED,
    state: ComputeState = ComputeState.RUNNING,
    version: str | None = "current",
    compute_id: str | None = "",
) -> ObservedAmphora:
    """An observed amphora; version "current" means whatever the spec under test renders."""
    return ObservedAmphora(
        id=amphora_id,
        role=role,
        status=status,
        compute_id=f"c-{amphora_id}" if compute_id == "" else compute_id,
        compute_state=state,
        config_version=version,
    )


def world(spec: LoadBalancerSpec, *amphorae: ObservedAmphora) -> ObservedLoadBalancer:
    current = config_version(render_amphora_config(spec, AMPHORA_LIMITS).text)
    return ObservedLoadBalancer(
        tuple(
            replace(a, config_version=current) if a.config_version == "current" else a
            for a in amphorae
        )
    )


def transcript(actions: list[Action]) -> list[str]:
    lines = []
    for action in actions:
        match action:
            case CreateAmphora(role=role, amphora_id=None):
                lines.append(f"create {role}")
            case CreateAmphora(role=role, amphora_id=amphora_id):
                lines.append(f"create {role} resuming {amphora_id}")
            case PushConfig(amphora_id=amphora_id):
                lines.append(f"push {amphora_id}")
            case DeleteAmphora(amphora_id=amphora_id):
                lines.append(f"delete {amphora_id}")
            case ReleaseVip(port_id=port_id):
                lines.append(f"release {port_id}")
    return lines


PENDING_DELETE = AmphoraStatus.PENDING_DELETE
DELETING = replace(SINGLE, provisioning_status=ProvisioningStatus.PENDING_DELETE)
CHANGED = replace(SINGLE, name="renamed", provisioning_status=ProvisioningStatus.PENDING_UPDATE)
CHANGED_PAIR = replace(CHANGED, topology=Topology.ACTIVE_STANDBY)
DISABLED = replace(SINGLE, admin_state_up=False)
DELETED = replace(SINGLE, provisioning_status=ProvisioningStatus.DELETED)

# (name, spec, observed amphorae, expected transcript)
CASES: list[tuple[str, LoadBalancerSpec, tuple[ObservedAmphora, ...], list[str]]] = [
    ("new SINGLE -> one STANDALONE", SINGLE, (), ["create STANDALONE"]),
    ("new ACTIVE_STANDBY -> MASTER + BACKUP", PAIR, (), ["create MASTER", "create BACKUP"]),
    ("already converged -> no actions", SINGLE, (amp("a1"),), []),
    ("already converged pair -> no actions", PAIR, (amp("m", M), amp("b", B)), []),
    ("disabled LB still converges", DISABLED, (), ["create STANDALONE"]),
    ("config drift -> push", SINGLE, (amp("a1", version=OLD),), ["push a1"]),
    ("booted, never configured -> push", SINGLE,
     (amp("a1", status=AmphoraStatus.BOOTING, version=None),), ["push a1"]),
    ("child update on a pair -> push to both", CHANGED_PAIR,
     (amp("m", M, version=OLD), amp("b", B, version=OLD)), ["push m", "push b"]),
    ("failover -> replacement first, then delete", SINGLE,
     (amp("a1", status=PENDING_DELETE),), ["create STANDALONE", "delete a1"]),
    ("failover of the MASTER keeps the BACKUP", PAIR,
     (amp("m", M, status=PENDING_DELETE), amp("b", B)), ["create MASTER", "delete m"]),
    ("amphora in ERROR -> replaced", SINGLE,
     (amp("a1", status=AmphoraStatus.ERROR),), ["create STANDALONE", "delete a1"]),
    ("instance gone from compute -> replaced", SINGLE,
     (amp("a1", state=ComputeState.MISSING, version=None),), ["create STANDALONE", "delete a1"]),
    ("instance broken in compute -> replaced", SINGLE,
     (amp("a1", state=ComputeState.ERROR, version=None),), ["create STANDALONE", "delete a1"]),
    ("crash inside a create -> resumed under the same id", SINGLE,
     (amp("a1", status=AmphoraStatus.PENDING_CREATE, state=ComputeState.MISSING,
          version=None, compute_id=None),), ["create STANDALONE resuming a1"]),
    ("surplus amphora -> the newer BOOTING one goes", SINGLE,
     (amp("a2", status=AmphoraStatus.BOOTING), amp("a1")), ["delete a2"]),
    ("wrong role for the topology -> replaced", SINGLE,
     (amp("m", M),), ["create STANDALONE", "delete m"]),
    ("FAILOVER_STOPPED holds its role, untouched", SINGLE,
     (amp("a1", status=AmphoraStatus.FAILOVER_STOPPED, version=OLD),), []),
    ("already deleted amphorae are ignored", SINGLE,
     (amp("old", status=AmphoraStatus.DELETED), amp("a1")), []),
    ("LB delete -> every amphora, then the VIP", DELETING,
     (amp("a1"), amp("a2", status=AmphoraStatus.ERROR)),
     ["delete a1", "delete a2", "release port-1"]),
    ("LB delete with nothing left -> only the VIP", DELETING, (), ["release port-1"]),
    ("LB already DELETED -> no actions", DELETED, (), []),
    ("LB in ERROR only sheds amphorae marked for deletion",
     replace(SINGLE, provisioning_status=ProvisioningStatus.ERROR),
     (amp("a1", version=OLD), amp("a2", status=PENDING_DELETE)), ["delete a2"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "amphorae", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_transcript(
    spec: LoadBalancerSpec, amphorae: tuple[ObservedAmphora, ...], expected: list[str]
) -> None:
    assert transcript(plan(spec, world(spec, *amphorae))) == expected


def test_actions_carry_the_rendered_config_and_its_version() -> None:
    assert plan(SINGLE, ObservedLoadBalancer()) == [CreateAmphora(S, TEXT, config_version(TEXT))]
    assert plan(SINGLE, world(SINGLE, amp("a1", version=OLD))) == [
        PushConfig("a1", "c-a1", TEXT, config_version(TEXT))
    ]
    assert plan(DELETING, world(DELETING, amp("a1", compute_id=None))) == [
        DeleteAmphora("a1", None),
        ReleaseVip("port-1"),
    ]


def test_describe_leaves_config_text_out() -> None:
    lines = [describe(a) for a in plan(PAIR, world(PAIR, amp("b", B, status=PENDING_DELETE)))]
    assert lines[0].startswith("create MASTER amphora with config ")
    assert lines[-1] == "delete amphora b"
    assert all(PAIR_TEXT not in line for line in lines)


# "Crash after step k": apply a prefix of the plan to a simulated world, plan again from
# there, and finish. The end state must not depend on where the pass was interrupted.

_ids = itertools.count(1)


def simulate(world_: ObservedLoadBalancer, actions: list[Action]) -> ObservedLoadBalancer:
    amphorae = {a.id: a for a in world_.amphorae}
    for action in actions:
        match action:
            case CreateAmphora():
                new_id = action.amphora_id or f"new-{next(_ids)}"
                amphorae[new_id] = ObservedAmphora(
                    new_id, action.role, AmphoraStatus.BOOTING, f"c-{new_id}",
                    ComputeState.RUNNING, action.version,
                )  # fmt: skip
            case PushConfig():
                amphorae[action.amphora_id] = replace(
                    amphorae[action.amphora_id], config_version=action.version
                )
            case DeleteAmphora():
                amphorae[action.amphora_id] = replace(
                    amphorae[action.amphora_id],
                    status=AmphoraStatus.DELETED,
                    compute_state=ComputeState.MISSING,
                )
            case ReleaseVip():
                pass
    return ObservedLoadBalancer(tuple(amphorae.values()))


def half_created(world_: ObservedLoadBalancer, action: Action) -> ObservedLoadBalancer:
    """A crash inside CreateAmphora: the row is written, compute never answered."""
    if not isinstance(action, CreateAmphora) or action.amphora_id is not None:
        return world_
    row = amp("half", action.role, AmphoraStatus.PENDING_CREATE, ComputeState.MISSING, None, None)
    return ObservedLoadBalancer((*world_.amphorae, row))


def end_state(world_: ObservedLoadBalancer) -> list[tuple[str, str, str | None]]:
    live = [a for a in world_.amphorae if a.status is not AmphoraStatus.DELETED]
    return sorted((str(a.role), a.status.value, a.config_version) for a in live)


CRASH_SCENARIOS = [c for c in CASES if len(c[3]) > 1 and c[1] is not DELETING]


@pytest.mark.parametrize(
    ("spec", "amphorae"), [c[1:3] for c in CRASH_SCENARIOS], ids=[c[0] for c in CRASH_SCENARIOS]
)
def test_crash_after_any_step_reaches_the_same_end_state(
    spec: LoadBalancerSpec, amphorae: tuple[ObservedAmphora, ...]
) -> None:
    start = world(spec, *amphorae)
    actions = plan(spec, start)
    uninterrupted = simulate(start, actions)
    assert plan(spec, uninterrupted) == []
    for k in range(len(actions) + 1):
        crashed = simulate(start, actions[:k])
        if k < len(actions):
            crashed = half_created(crashed, actions[k])
        resumed = simulate(crashed, plan(spec, crashed))
        assert plan(spec, resumed) == [], f"not converged after a crash after step {k}"
        assert end_state(resumed) == end_state(uninterrupted), f"crash after step {k}"


def test_crash_during_lb_delete_still_deletes_everything_then_releases_the_vip() -> None:
    start = world(DELETING, amp("a1"), amp("a2"))
    actions = plan(DELETING, start)
    for k in range(len(actions) + 1):
        crashed = simulate(start, actions[:k])
        replanned = plan(DELETING, crashed)
        assert replanned[-1] == ReleaseVip("port-1")
        assert end_state(simulate(crashed, replanned)) == []
