"""How many examples a property test draws.

Each property test names the number it draws in the gating suite (the `deterministic`
profile, tests/conftest.py), through `examples(n)`. A number given to `@settings`
outright would override the active profile's, so exploring (`--hypothesis-profile=
explore`, or `soak`) would draw no more examples than the suite does: `examples`
scales each test's own number by the profile's `max_examples` over Hypothesis' default
(100), 20 times when exploring, 100 times when soaking.
"""

from __future__ import annotations

from hypothesis import settings

_HYPOTHESIS_DEFAULT = 100
"""Hypothesis' own `max_examples`, which the gating profile keeps."""


def examples(n: int) -> int:
    """`n` under the gating profile, scaled as the active profile says (at least 1).
    Read when the test module is imported: pytest loads the profile before that."""
    return max(1, n * settings().max_examples // _HYPOTHESIS_DEFAULT)  # the active profile's
