"""The report order (`model.sort_findings`, `model.blocks`): the same as a sort by
status, severity, rule and address, whatever order the findings come in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zenpolicy.model import Finding, Location, Severity, Status, blocks, sort_findings

_RANK = {Status.ERROR: 0, Status.FAIL: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}
_HERE = Location(path="inv.yaml", line=1, column=1)


def _finding(rule_id: str, address: str, status: Status, severity: Severity, message: str = "") -> Finding:
    return Finding(
        rule_id=rule_id, address=address, status=status, severity=severity, location=_HERE, message=message
    )


def _reference(findings: list[Finding]) -> list[Finding]:
    """The order's definition: one stable sort by the four keys."""
    return sorted(findings, key=lambda f: (_RANK[f.status], -f.severity, f.rule_id, f.address))


def test_engine_order_is_split_by_status() -> None:
    # As an engine gives them: rule by rule, each rule's subjects in address order.
    findings = [
        _finding("ACC-01", "account.a", Status.PASS, Severity.HIGH),
        _finding("ACC-01", "account.b", Status.FAIL, Severity.HIGH),
        _finding("ACC-01", "account.c", Status.PASS, Severity.HIGH),
        _finding("ACC-01", "account.d", Status.ERROR, Severity.HIGH),
        _finding("AUTH-04", "account.a", Status.FAIL, Severity.CRITICAL),
        _finding("AUTH-04", "account.b", Status.PASS, Severity.CRITICAL),
        _finding("BAK-09", "inventory", Status.NOT_APPLICABLE, Severity.LOW),
    ]
    found = blocks(findings)
    assert [(key, [f.address for f in run]) for key, run in found] == [
        ((0, -3, "ACC-01"), ["account.d"]),
        ((1, -4, "AUTH-04"), ["account.a"]),
        ((1, -3, "ACC-01"), ["account.b"]),
        ((2, -4, "AUTH-04"), ["account.b"]),
        ((2, -3, "ACC-01"), ["account.a", "account.c"]),
        ((3, -1, "BAK-09"), ["inventory"]),
    ]
    assert list(sort_findings(findings)) == _reference(findings)


def test_a_rule_given_in_pieces_and_out_of_order() -> None:
    findings = [
        _finding("ACC-01", "account.c", Status.PASS, Severity.HIGH),
        _finding("AUTH-04", "account.a", Status.PASS, Severity.CRITICAL),
        _finding("ACC-01", "account.a", Status.PASS, Severity.HIGH),
        _finding("ACC-01", "account.b", Status.PASS, Severity.HIGH, "first"),
        _finding("ACC-01", "account.b", Status.PASS, Severity.HIGH, "second"),
    ]
    ordered = sort_findings(findings)
    assert [(f.rule_id, f.address, f.message) for f in ordered] == [
        ("AUTH-04", "account.a", ""),
        ("ACC-01", "account.a", ""),
        ("ACC-01", "account.b", "first"),  # equal in the four keys: their order kept
        ("ACC-01", "account.b", "second"),
        ("ACC-01", "account.c", ""),
    ]
    assert list(ordered) == _reference(findings)


def test_no_findings() -> None:
    assert blocks([]) == []
    assert sort_findings([]) == ()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ACC-01", "AUTH-04", "BAK-09"]),
            st.sampled_from(["account.a", "account.b", "server.a", "inventory"]),
            st.sampled_from(list(Status)),
            st.sampled_from(list(Severity)),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
def test_any_order_gives_the_sorted_order(rows: list[tuple[str, str, Status, Severity, int]]) -> None:
    findings = [_finding(r, a, s, sev, str(n)) for r, a, s, sev, n in rows]
    expected = _reference(findings)
    assert list(sort_findings(findings)) == expected
    found = blocks(findings)
    assert [f for _, run in found for f in run] == expected
    keys = [key for key, _ in found]
    assert keys == sorted(set(keys))  # one block per key, in order
    assert all((_RANK[f.status], -f.severity, f.rule_id) == key for key, run in found for f in run)
