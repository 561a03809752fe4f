"""Message templates: the plain-substitution fast path renders exactly what Jinja2
renders, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from zenpolicy.model import Check
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.message import compile_template, plan, render_fast, render_message, squeezed

EVIDENCE = (
    Check(test="count(x) >= 2", actual=1, expected=2, result=False),
    Check(test="exists(y)", actual=None, expected=True, result=False),
)


def jinja(template: str, attrs: Any, params: Any = None, address: str = "server.web-01") -> str:
    """The reference: Jinja2 alone, as render_message did before the fast path."""
    text = compile_template(template).render(
        address=address, resource=attrs, params=params or {}, evidence=[c.to_dict() for c in EVIDENCE]
    )
    return " ".join(text.split())


def fast(template: str, attrs: Any, params: Any = None, address: str = "server.web-01") -> str:
    return render_message(template, address=address, attrs=attrs, params=params or {}, evidence=EVIDENCE)


def test_every_builtin_template_takes_the_fast_path() -> None:
    for rule in load_catalogue(()).rules:
        assert plan(rule.message) is not None, rule.id


def test_builtin_templates_render_as_jinja2() -> None:
    attrs_cases: list[dict[str, Any]] = [
        {},
        {"username": "alice", "person": None, "admins": ["a", "b"], "archive": {"method": "tar"}},
        {"password_hashing": "bcrypt", "logging": {"accesses": True, "retention_days": 1.5}},
        {"password_hashing": {"algorithm": None, "salted": False, "iterations": 10**20}},
    ]
    catalogue = load_catalogue(())
    params = {name: spec.default for name, spec in catalogue.params.items()}
    for rule in catalogue.rules:
        for attrs in attrs_cases:
            assert fast(rule.message, attrs, params) == jinja(rule.message, attrs, params), rule.id


@pytest.mark.parametrize(
    "template",
    [
        "{{ resource.a }}",
        "x {{ resource.a.b }} y",
        "{{ resource.a.b.c }}",
        "{{ resource }} {{ params }} {{ address }}",
        "{{ resource.upper }} {{ resource.a.upper }} {{ resource.a.real }}",  # methods of str, int
        "{{ resource.items }} {{ resource.a.items }}",  # dict methods: Jinja2's business
        "{{ resource._x }} {{ resource.__class__ }}",
        "{{ evidence[0].actual }} {{ evidence[1].expected }} {{ evidence[5].actual }}",
        "{{ evidence[0] }} {{ evidence }} {{ evidence.actual }} {{ evidence[0].nope }}",
        "{{ evidence[0].actual.x }} {{ evidence[-1].actual }}",
        "{{ nothing }} {{ range }} {{ none }} {{ true }}",
        "{{ resource.a | upper }} {{ resource.a ~ 'x' }} {% if 1 %}y{% endif %}",
        "{# comment #} a\n\n  b {{ resource.a }}\n",
        "",
        "no substitution at all",
        "{{ resource['a'] }} {{ params.p.q }}",
    ],
)
@pytest.mark.parametrize(
    "value",
    [None, "txt", 3, 2.5, True, [], ["x", 1], {}, {"b": 1}, {"b": {"c": None}}, {"items": 1, "b": "z"}],
)
def test_lookups_render_as_jinja2(template: str, value: Any) -> None:
    attrs = {"a": value, "items": "key named items", "_x": 1}
    params = {"p": value}
    assert fast(template, attrs, params) == jinja(template, attrs, params)


def test_a_mapping_that_is_not_a_dict_takes_jinja2() -> None:
    from types import MappingProxyType

    attrs = MappingProxyType({"a": 1})
    assert render_fast(plan("{{ resource.a }}") or (), "x", attrs, {}, ()) is None
    assert fast("{{ resource.a }}", attrs) == jinja("{{ resource.a }}", attrs) == "1"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abxy"), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=examples(300), deadline=None)
@given(attrs=st.dictionaries(st.sampled_from(["a", "b", "keys", "x"]), _json, max_size=4))
def test_generated_values_render_as_jinja2(attrs: dict[str, Any]) -> None:
    template = "{{ resource.a }}|{{ resource.a.b }}|{{ resource.b.a.x }}|{{ resource.x }}|{{ resource }}"
    assert fast(template, attrs) == jinja(template, attrs)


@pytest.mark.parametrize(
    ("template", "ok"),
    [
        ("{{ address }} has {{ resource.x }}", True),  # a plan: not compiled, valid
        ("{{ resource.x | upper }}", True),  # not a plan: compiled, valid
        ("{{ resource.x ", False),
        ("{% if %}", False),
        ("{{ resource.x }} {% endfor %}", False),
    ],
)
def test_rule_templates_are_checked_when_rules_load(tmp_path: Any, template: str, ok: bool) -> None:
    import json
    import re

    from zenpolicy.errors import RuleError
    from zenpolicy.resources import policies_dir

    text = (policies_dir() / "web" / "WEB-01a.yaml").read_text()
    text = re.sub(r"(?m)^id: .*$", "id: X-01", text)
    text = re.sub(r"(?ms)^message: >-\n.*?(?=^\S)", f"message: {json.dumps(template)}\n", text)
    (tmp_path / "X-01.yaml").write_text(text)
    if ok:
        assert load_catalogue((tmp_path,)).get("X-01") is not None
        return
    with pytest.raises(RuleError) as info:
        load_catalogue((tmp_path,))
    (problem,) = info.value.problems
    assert problem.code == "bad-template" and problem.message.startswith(
        "message template does not compile: "
    )


# ---- plans read without Jinja2 -----------------------------------------------------------

_PIECES = [
    "{{ address }}",
    "{{address}}",
    "{{ resource.a }}",
    "{{ resource.a.b_2 }}",
    "{{  params.rotation  }}",
    "{{ evidence[0].actual }}",
    "{{ evidence[12] }}",
    "{{ resource[0] }}",
    "{{ evidence[01] }}",
    "{{ resource.items }}",
    "{{ resource._private }}",
    "{{ resource.true }}",
    "{{ resource.not.in }}",
    "{{ other.a }}",
    "{{ true }}",
    "{{- address }}",
    "{{ address -}}",
    "{{+ address }}",
    "{{\taddress }}",
    "{{ address\n}}",
    "{{ resource . a }}",
    "{{ resource.a | upper }}",
    "{{ address }",
    "{ address }}",
    "{{{ address }}}",
    "{% if x %}y{% endif %}",
    "{# note #}",
    "{% raw %}{{ address }}{% endraw %}",
    "{{ résumé }}",
    "{{ resource.é }}",
    " lists ",
    "(admins: ",
    "%",
    "#",
    "-",
    "}",
    "{",
    "é ü 🙂",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "\t",
]


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=4), max_size=8))
def test_plans_read_without_jinja2_are_jinja2s(parts: list[str]) -> None:
    """Where `_simple_plan` answers, it answers what Jinja2's parse gives (`_plan`)."""
    from zenpolicy.rules.message import _JINJA, _plan, _simple_plan

    template = "".join(parts)
    simple = _simple_plan(template)
    if simple is not _JINJA:
        assert simple == _plan(template), template


def test_simple_plans_cover_the_builtin_templates_and_step_aside_otherwise() -> None:
    from zenpolicy.rules.message import _JINJA, _plan, _simple_plan

    for rule in load_catalogue((), reuse=False).rules:
        for template in (rule.message, rule.raw["message"]):
            assert _simple_plan(template) == _plan(template), rule.id
    assert _simple_plan("{{ address }} has {{ evidence[0].actual }} of {{ params.n }}") == (
        ("address", None, ()),
        " has ",
        ("evidence", 0, ("actual",)),
        " of ",
        ("params", None, ("n",)),
    )
    for other in (
        "{{ address | upper }}",
        "{{- address }}",
        "a\r\nb",
        "{{ address }}\n",
        "{{ resource.keys }}",
    ):
        assert _simple_plan(other) is _JINJA, other


def test_the_builtin_catalogue_loads_without_jinja2() -> None:
    """Reading the rules from their files (nothing stored) imports no Jinja2: every
    built-in template is planned without it, and a planned template needs no compiling."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from zenpolicy.rules.loader import load_catalogue\n"
        "assert len(load_catalogue((), reuse=False).rules) > 90\n"
        "print('jinja2' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


_SPACES = "".join(chr(c) for c in range(0x3000 + 1) if chr(c).isspace())
"""Every character `str.split` takes for whitespace, up to U+3000 (the last)."""


@settings(max_examples=examples(500), deadline=None)
@given(st.text(alphabet=st.sampled_from(f"ab. {_SPACES}")) | st.text())
def test_squeezed_is_split_and_joined(text: str) -> None:
    assert squeezed(text) == " ".join(text.split())


def test_squeezed_returns_a_message_without_runs_of_whitespace_as_it_is() -> None:
    text = "account.a has not logged in for 400 days"
    assert squeezed(text) is text
    assert squeezed(" a\u00a0b\tc  d\n") == "a b c d"
