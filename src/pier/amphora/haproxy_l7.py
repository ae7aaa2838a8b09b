"""The L7 policies of one HTTP frontend: an ACL per rule, then one action line per policy.

Mapping as Octavia's (octavia-api.md §11): the ACL is named by the rule id, a policy's rules
are AND-ed (`!` when inverted), only enabled policies with at least one enabled rule count.
"""

from collections.abc import Callable, Collection
from dataclasses import replace

from pier.amphora.haproxy_syntax import backend_name, fetch, pattern, word
from pier.domain.enums import L7PolicyAction, L7RuleCompareType, L7RuleType
from pier.domain.spec import L7PolicySpec, L7RuleSpec, ListenerSpec

MATCHERS = {
    L7RuleCompareType.REGEX: "-m reg",
    L7RuleCompareType.STARTS_WITH: "-m beg",
    L7RuleCompareType.ENDS_WITH: "-m end",
    L7RuleCompareType.CONTAINS: "-m sub",
    L7RuleCompareType.EQUAL_TO: "-m str",
}

# HAProxy evaluates every `http-request` rule, then every `redirect`, then every `use_backend`,
# whatever their order in the file (and warns when the file says otherwise). That is also
# Octavia's documented precedence: REJECT, then the redirects, then REDIRECT_TO_POOL, each
# class in position order. The lines are written in the order they run.
PRECEDENCE = {
    L7PolicyAction.REJECT: 0,
    L7PolicyAction.REDIRECT_TO_URL: 1,
    L7PolicyAction.REDIRECT_PREFIX: 1,
    L7PolicyAction.REDIRECT_TO_POOL: 2,
}


def active_policies(
    listener: ListenerSpec, routable_pool_ids: Collection[str]
) -> tuple[L7PolicySpec, ...]:
    """The policies HAProxy gets, each keeping only its enabled rules, in execution order.

    A policy counts when it is enabled, has an enabled rule and its action can be written: a
    REDIRECT_TO_POOL needs its pool rendered, a redirect needs its URL.
    """
    kept = []
    for policy in listener.l7policies:
        rules = tuple(rule for rule in policy.rules if rule.admin_state_up)
        if policy.admin_state_up and rules and _has_target(policy, routable_pool_ids):
            kept.append(replace(policy, rules=rules))
    return tuple(sorted(kept, key=lambda p: (PRECEDENCE[p.action], p.position)))


def _has_target(policy: L7PolicySpec, routable_pool_ids: Collection[str]) -> bool:
    if policy.action is L7PolicyAction.REDIRECT_TO_POOL:
        return policy.redirect_pool_id in routable_pool_ids
    if policy.action is L7PolicyAction.REDIRECT_TO_URL:
        return bool(policy.redirect_url)
    if policy.action is L7PolicyAction.REDIRECT_PREFIX:
        return bool(policy.redirect_prefix)
    return True


def policy_lines(listener: ListenerSpec, policies: tuple[L7PolicySpec, ...]) -> list[str]:
    """Every ACL, then every action, for policies from `active_policies`."""
    acls = [acl(rule) for policy in policies for rule in policy.rules]
    return [*acls, *(action(policy, listener.id) for policy in policies)]


def acl(rule: L7RuleSpec) -> str:
    return f"acl {rule.id} {TESTS[rule.type](rule)}"


def _file_type(rule: L7RuleSpec) -> str:
    # `path_end -m str` matches nothing (haproxy/haproxy#2567): EQUAL_TO is the suffix match
    # that `path_end` already is.
    if rule.compare_type is L7RuleCompareType.EQUAL_TO:
        return f"path_end {pattern(rule.value)}"
    return f"path_end {_compare(rule)}"


# HEADER reads the whole header (`req.fhdr`), where Octavia's `req.hdr` splits a value at its
# commas and matches each piece: a rule for `a,b` (the API accepts commas) never matched, and
# one for `a` matched `a,b`.
TESTS: dict[L7RuleType, Callable[[L7RuleSpec], str]] = {
    L7RuleType.HOST_NAME: lambda rule: f"req.hdr(host) -i {_compare(rule)}",
    L7RuleType.PATH: lambda rule: f"path {_compare(rule)}",
    L7RuleType.FILE_TYPE: _file_type,
    L7RuleType.HEADER: lambda rule: f"{fetch('req.fhdr', _key(rule))} {_compare(rule)}",
    L7RuleType.COOKIE: lambda rule: f"{fetch('req.cook', _key(rule))} {_compare(rule)}",
    L7RuleType.SSL_CONN_HAS_CERT: lambda rule: "ssl_c_used",
    L7RuleType.SSL_VERIFY_RESULT: lambda rule: f"ssl_c_verify eq {word(rule.value)}",
    L7RuleType.SSL_DN_FIELD: lambda rule: f"{fetch('ssl_c_s_dn', _key(rule))} {_compare(rule)}",
}


def _compare(rule: L7RuleSpec) -> str:
    return f"{MATCHERS[rule.compare_type]} {pattern(rule.value)}"


def _key(rule: L7RuleSpec) -> str:
    if not rule.key:
        raise ValueError(f"L7 rule {rule.id} of type {rule.type} has no key.")
    return rule.key


def action(policy: L7PolicySpec, listener_id: str) -> str:
    condition = " ".join(f"!{r.id}" if r.invert else r.id for r in policy.rules)
    code = f" code {policy.redirect_http_code}" if policy.redirect_http_code else ""
    if policy.action is L7PolicyAction.REJECT:
        return f"http-request deny if {condition}"
    if policy.action is L7PolicyAction.REDIRECT_TO_URL:
        return f"redirect{code} location {word(policy.redirect_url or '')} if {condition}"
    if policy.action is L7PolicyAction.REDIRECT_PREFIX:
        return f"redirect{code} prefix {word(policy.redirect_prefix or '')} if {condition}"
    target = backend_name(policy.redirect_pool_id or "", listener_id)
    return f"use_backend {target} if {condition}"
