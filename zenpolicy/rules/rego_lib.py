"""`package zenpolicy.lib`: the Rego helpers every compiled rule imports.

The semantics of docs/rules.md live here once, instead of being spelled out in every
rule: absence (a test on a missing or null value is false), no type coercion between
numbers and strings, the time arithmetic of ages and durations, and the shape of a
finding. Every helper is written in the subset of Rego that both OPA and rego-cpp
(regopy, which the test suite uses) evaluate identically; the comments say where the
two differ and how the helper avoids it.
"""

from __future__ import annotations

LIB_PACKAGE = "zenpolicy.lib"

LIB_SOURCE = r"""# METADATA
# title: zenpolicy helpers shared by every compiled rule
# description: Absence, typing and time semantics of the zenpolicy rule language (docs/rules.md).
package zenpolicy.lib

import rego.v1

# ---- values -------------------------------------------------------------------------

# The value at `path` (a list of attribute names) under `x`, or null when there is none:
# absent and null are the same thing to a rule.
get(x, path) := object.get(x, path, null) if is_object(x) else := null

# One step of a path with a part made of digits: an attribute of an object, or an item
# of a list (`backups.0`), as the native engine's get_path reads it.
step(x, key) := v if {
	is_object(x)
	v := x[key]
} else := v if {
	is_array(x)
	regex.match(`^[0-9]+$`, key)
	v := x[to_number(key)]
} else := null

# A parameter: the input's value (what the client resolved, overrides included), else
# the bundle's default (data.json), else null (which makes every test on it false).
param(name) := v if {
	v := input.params[name]
} else := v if {
	v := data.zenpolicy.params[name]
} else := null

# A duration parameter (seconds) in another unit, for comparing with plain numbers of
# days or hours; null when the parameter is absent or not a number.
param_in(name, unit) := v if {
	is_number(param(name))
	v := param(name) / unit
} else := null

present(v) if v != null

absent(v) if v == null

# ---- comparisons (docs/rules.md "Types"): false on null, no coercion -----------------

test(a, "eq", b) if {
	a != null
	b != null
	a == b
}

test(a, "ne", b) if {
	a != null
	b != null
	a != b
}

test(a, "lt", b) if {
	ordered(a, b)
	a < b
}

test(a, "le", b) if {
	ordered(a, b)
	a <= b
}

test(a, "gt", b) if {
	ordered(a, b)
	a > b
}

test(a, "ge", b) if {
	ordered(a, b)
	a >= b
}

test(a, "in", b) if {
	a != null
	is_array(b)
	member(a, b)
}

test(a, "not_in", b) if {
	a != null
	is_array(b)
	not member(a, b)
}

# (A helper, not `not test(a, "in", b)`: OPA rejects a function that calls itself.)
member(a, list) if {
	some item in list
	item == a
}

test(a, "contains", b) if {
	b != null
	is_array(a)
	some item in a
	item == b
}

# regex.match is RE2 in OPA and in rego-cpp: searched anywhere, like re.search.
test(a, "matches", b) if {
	is_string(a)
	is_string(b)
	regex.match(b, a)
}

# lt/le/gt/ge compare two numbers or two strings, never one with the other.
ordered(a, b) if {
	is_number(a)
	is_number(b)
}

ordered(a, b) if {
	is_string(a)
	is_string(b)
}

holds(a, op, b) := true if test(a, op, b) else := false

# ---- time: ages, durations and schedules, in seconds ---------------------------------

date_re := `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`

# The date-time is rebuilt before parsing because rego-cpp's time.parse_rfc3339_ns (the
# test suite's stand-in for OPA) rejects fractional seconds and the `Z` offset, which
# OPA accepts: splitting them off makes both runtimes read 12:00:00.5Z the same way.
datetime_re := `^([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`

# Microseconds since the epoch (the native engine's precision: Python keeps six digits
# of a fraction and drops the rest); a date counts as its T00:00:00Z. Undefined for
# anything that is not a real date or date-time (2026-02-30 is undefined in both).
instant_us(v) := time.parse_ns("2006-01-02", v) / 1000 if {
	is_string(v)
	regex.match(date_re, v)
} else := us if {
	is_string(v)
	parts := regex.find_all_string_submatch_n(datetime_re, v, 1)[0]
	whole := time.parse_rfc3339_ns(concat("", [upper(parts[1]), utc_offset(parts[3])]))
	us := (whole / 1000) + fraction_us(parts[2])
}

utc_offset(text) := "+00:00" if upper(text) == "Z" else := text

# ".5" -> 500000: the fraction's first six digits, as an integer (no float rounding).
fraction_us(text) := 0 if text == "" else := to_number(substring(concat("", [substring(text, 1, -1), "000000"]), 0, 6))

# Whole seconds, rounded down like the native engine's timedelta // 1s.
seconds(us) := floor(us / 1000000)

# The age of a date is whole days from the as_of date; of a date-time, the seconds
# from the as_of instant. Null when the value is neither.
age(v) := secs if {
	is_string(v)
	regex.match(date_re, v)
	secs := seconds(instant_us(input.as_of_date) - instant_us(v))
} else := secs if {
	secs := seconds(instant_us(input.as_of) - instant_us(v))
} else := null

# The time left before a date or date-time (negative once past), rounded down like
# every duration: whole days to a date, seconds to a date-time.
until(v) := secs if {
	is_string(v)
	regex.match(date_re, v)
	secs := seconds(instant_us(v) - instant_us(input.as_of_date))
} else := secs if {
	secs := seconds(instant_us(v) - instant_us(input.as_of))
} else := null

# end - start, in seconds; null unless both are dates or date-times.
duration(start, end) := secs if {
	secs := seconds(instant_us(end) - instant_us(start))
} else := null

# The longest gap of a cron expression, precomputed by the client (input.derived) with
# the same Python function the native engine uses.
cron_gap(expr) := gap if {
	is_string(expr)
	gap := input.derived.cron_max_gap[expr]
} else := null

# ---- references ----------------------------------------------------------------------

# The references held by a value: one string, or a list of them.
refs(v) := [v] if is_string(v) else := [r | some r in v; is_string(r)] if is_array(v) else := []

# The resource a reference `kind.name` names (names may contain dots, kinds do not).
resource(ref) := input.resources[kind][name] if {
	is_string(ref)
	indexof(ref, ".") > 0
	kind := split(ref, ".")[0]
	name := substring(ref, count(kind) + 1, -1)
}

items(v) := v if is_array(v) else := []

# `every`: a list, and all of its items satisfied the condition (true when empty).
all_items(list, satisfied) if {
	is_array(list)
	satisfied == count(list)
}

# ---- findings and evidence -----------------------------------------------------------

check(text, actual, op, expected) := {
	"test": text,
	"actual": actual,
	"expected": expected,
	"result": holds(actual, op, expected),
}

check_exists(text, actual, expected) := {
	"test": text,
	"actual": actual,
	"expected": expected,
	"result": present_is(actual, expected),
}

# For `every`, the expected count is the number of items (null when not a list).
check_every(text, satisfied, list) := {
	"test": text,
	"actual": satisfied,
	"expected": size(list),
	"result": every_result(list, satisfied),
}

size(list) := count(list) if is_array(list) else := null

every_result(list, satisfied) := true if all_items(list, satisfied) else := false

present_is(v, true) := true if present(v) else := false
present_is(v, false) := false if present(v) else := true

finding(rule_id, address, status, evidence) := {
	"rule_id": rule_id,
	"address": address,
	"status": status,
	"evidence": evidence,
}

not_applicable(rule_id) := finding(rule_id, "inventory", "not_applicable", [])
"""
