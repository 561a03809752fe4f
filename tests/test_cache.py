"""The result cache: keys change exactly when the result may, entries are never trusted
unless intact, and a cache that cannot be written never fails a run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from zenpolicy import cache, digests, resources
from zenpolicy.api import CheckOptions, OpaOptions, run_check
from zenpolicy.formats import RenderOptions, render
from zenpolicy.output import OutputError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(home))
    return home


def _estate(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "zenpolicy.yaml").write_text("organisation: Test\nas_of: 2026-11-26\n")
    (root / "servers.yaml").write_text(
        "server:\n  web:\n    provider: ovh\n    country: FR\n    roles: [hosting]\n"
        "    disk_encryption: false\n"
    )
    (root / "people.yaml").write_text("person:\n  alice:\n    full_name: Alice\n    status: active\n")
    return root


# ---- where ------------------------------------------------------------------------------


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert resources.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("ZENPOLICY_CACHE_DIR")
    assert resources.cache_dir() == tmp_path / "x" / "zenpolicy"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resources.cache_dir() == Path.home() / ".cache" / "zenpolicy"


# ---- entries ----------------------------------------------------------------------------


def test_round_trip_and_private_directory(cache_home: Path) -> None:
    key = "k" * 64
    assert cache.load(key) is None
    assert cache.store(key, cache.Entry(payload=b"report\n", meta={"exit": 1}))
    entry = cache.load(key)
    assert entry == cache.Entry(payload=b"report\n", meta={"exit": 1})
    assert (cache_home.stat().st_mode & 0o777) == 0o700
    assert [p.name for p in cache_home.iterdir()] == [f"{key}.entry"]  # no temporary left


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1],  # truncated payload
        lambda b: b[: len(b) // 3],  # truncated header
        lambda b: b[:-2] + bytes([b[-2] ^ 1]) + b[-1:],  # one bit flipped
        lambda b: b"",  # empty file
        lambda b: b"garbage",
        lambda b: b.replace(b'"format": 1', b'"format": 99'),  # another layout
    ],
    ids=["truncated", "header-cut", "bit-flip", "empty", "garbage", "format"],
)
def test_damaged_entries_are_ignored_and_removed(cache_home: Path, damage: object) -> None:
    key = "d" * 64
    assert cache.store(key, cache.Entry(payload=b"x" * 1000, meta={}))
    path = cache_home / f"{key}.entry"
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.load(key) is None
    assert not path.exists()


def test_an_entry_under_another_name_is_not_trusted(cache_home: Path) -> None:
    assert cache.store("a" * 64, cache.Entry(payload=b"for a", meta={}))
    (cache_home / f"{'a' * 64}.entry").rename(cache_home / f"{'b' * 64}.entry")
    assert cache.load("b" * 64) is None


def test_unwritable_cache_never_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(blocker / "cache"))
    assert cache.store("c" * 64, cache.Entry(payload=b"x")) is False
    assert cache.load("c" * 64) is None


def test_prune_keeps_the_most_recently_used(cache_home: Path) -> None:
    keys = [f"{i:064d}" for i in range(5)]
    for age, key in enumerate(keys):
        assert cache.store(key, cache.Entry(payload=b"x" * 10))
        os.utime(cache_home / f"{key}.entry", (1000 + age, 1000 + age))
    assert cache.load(keys[0]) is not None  # used now: the most recent
    cache.prune(max_entries=2)
    assert sorted(p.name for p in cache_home.iterdir()) == sorted(f"{k}.entry" for k in (keys[0], keys[4]))
    cache.prune(max_entries=10, max_bytes=1)
    assert list(cache_home.iterdir()) == []


# ---- keys -------------------------------------------------------------------------------


def _key(root: Path, **changes: object) -> str | None:
    fields: dict[str, object] = {"path": root, **changes}
    render = fields.pop("render", {"format": "json"})
    return cache.check_key(CheckOptions(**fields), render=render)  # type: ignore[arg-type]


def test_key_is_stable_when_nothing_changes(tmp_path: Path) -> None:
    root = _estate(tmp_path / "inv")
    assert _key(root) == _key(root)
    assert len(_key(root) or "") == 64


@pytest.mark.parametrize(
    "change",
    [
        "edit-file",
        "new-file",
        "rename-file",
        "edit-config",
        "as_of",
        "param",
        "select",
        "skip",
        "render",
        "policies",
    ],
)
def test_key_changes_with_anything_the_result_depends_on(tmp_path: Path, change: str) -> None:
    root = _estate(tmp_path / "inv")
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "rule.yaml").write_text("id: X\n")
    before = _key(root, policies=(custom,))
    after_options: dict[str, object] = {"policies": (custom,)}
    if change == "edit-file":
        (root / "servers.yaml").write_text((root / "servers.yaml").read_text().replace("false", "true"))
    elif change == "new-file":
        (root / "more.yaml").write_text("person:\n  bob:\n    full_name: Bob\n    status: active\n")
    elif change == "rename-file":
        (root / "people.yaml").rename(root / "staff.yaml")
    elif change == "edit-config":
        (root / "zenpolicy.yaml").write_text("organisation: Test\nas_of: 2026-11-27\n")
    elif change == "as_of":
        after_options["as_of"] = "2026-12-01"
    elif change == "param":
        after_options["params"] = {"patch_max_age": "10d"}
    elif change == "select":
        after_options["select"] = ("SRV-*",)
    elif change == "skip":
        after_options["skip"] = ("SRV-02",)
    elif change == "render":
        after_options["render"] = {"format": "text", "verbose": True}
    elif change == "policies":
        (custom / "rule.yaml").write_text("id: Y\n")
    assert _key(root, **after_options) != before


def test_key_changes_with_the_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _estate(tmp_path / "inv")
    before = _key(root)
    digests.tool_fingerprint.cache_clear()
    monkeypatch.setattr(digests, "__version__", "99.0")
    try:
        assert _key(root) != before
    finally:
        digests.tool_fingerprint.cache_clear()


def test_key_changes_with_a_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version of a library that decides values (here RE2) is another key."""
    root = _estate(tmp_path / "inv")
    before = _key(root)
    stamp = digests.library_stamp
    digests.tool_fingerprint.cache_clear()
    monkeypatch.setattr(digests, "library_stamp", lambda name: stamp(name) + ("+1" if name == "re2" else ""))
    try:
        assert _key(root) != before
    finally:
        digests.tool_fingerprint.cache_clear()
    assert "re2" in digests.LIBRARIES and stamp("re2").startswith("re2:/")
    assert stamp("no_such_library_here") == "no_such_library_here:absent"


@pytest.mark.parametrize(
    "options",
    [
        {"extra": {"no_cache": True}},
        {"extra": {"generated_at": True}},
        {"engine": "opa", "opa": OpaOptions(url="http://127.0.0.1:1")},
    ],
    ids=["no-cache", "timestamp", "opa"],
)
def test_uncacheable_runs_have_no_key(tmp_path: Path, options: dict[str, object]) -> None:
    assert _key(_estate(tmp_path / "inv"), **options) is None


def test_invalid_configuration_has_no_key(tmp_path: Path) -> None:
    root = _estate(tmp_path / "inv")
    (root / "zenpolicy.yaml").write_text("as_of: not-a-date\n")
    assert _key(root) is None


# ---- reports ----------------------------------------------------------------------------


def test_report_round_trip_is_exact(tmp_path: Path) -> None:
    report = run_check(CheckOptions(path=REPO / "inventory"))
    assert report.findings
    data = cache.report_to_bytes(report)
    again = cache.report_from_bytes(data)
    assert again == report
    assert render("json", again, RenderOptions()) == render("json", report, RenderOptions())
    assert cache.report_from_bytes(data[:-10]) is None
    assert cache.report_from_bytes(b"") is None


# ---- replaying an output file -------------------------------------------------------------


def test_replay_writes_the_output_then_leaves_an_identical_file_alone(tmp_path: Path) -> None:
    key = "r" * 64
    target = tmp_path / "report.json"
    assert cache.replay(key, target) is None
    assert not target.exists()
    assert cache.store(key, cache.Entry(payload=b'{"ok": true}\n', meta={"exit": 1}))
    assert cache.replay(key, target) == {"exit": 1}
    assert target.read_bytes() == b'{"ok": true}\n'
    before = target.stat()
    assert cache.replay(key, target) == {"exit": 1}
    assert target.stat().st_ino == before.st_ino  # not rewritten
    target.write_bytes(b'{"ok": null}\n')  # same length, other content
    os.chmod(target, 0o640)
    assert cache.replay(key, target) == {"exit": 1}
    assert target.read_bytes() == b'{"ok": true}\n'
    assert target.stat().st_mode & 0o777 == 0o640  # permissions kept, as write_atomic does


@pytest.mark.parametrize("cut", [1, 5, 200])
def test_replay_never_writes_a_damaged_entry(cache_home: Path, tmp_path: Path, cut: int) -> None:
    key = "s" * 64
    assert cache.store(key, cache.Entry(payload=b"x" * 100, meta={}))
    path = cache_home / f"{key}.entry"
    data = path.read_bytes()
    path.write_bytes(data[:-cut] if cut < 100 else data[:-1] + b"y")
    target = tmp_path / "out.json"
    assert cache.replay(key, target) is None
    assert not target.exists()
    assert not path.exists()


# ---- recording while the payload is produced ------------------------------------------------


def test_recorder_stores_a_streamed_payload(cache_home: Path) -> None:
    key = "e" * 64
    chunks = [b"first ", "é".encode(), b"", b" last\n"]
    with cache.Recorder(key) as recorder:
        assert recorder.recording
        assert list(recorder.tee(iter(chunks))) == chunks
        assert recorder.commit({"exit": 1, "summary": "é"})
    assert cache.load(key) == cache.Entry(payload=b"".join(chunks), meta={"exit": 1, "summary": "é"})
    assert [p.name for p in cache_home.iterdir()] == [f"{key}.entry"]


def test_recorder_left_without_commit_leaves_nothing(cache_home: Path) -> None:
    key = "f" * 64
    with pytest.raises(RuntimeError), cache.Recorder(key) as recorder:
        recorder.write(b"half a report")
        raise RuntimeError("the run failed")
    with cache.Recorder(key) as recorder:
        recorder.write(b"not committed")
    assert list(cache_home.iterdir()) == []
    assert cache.load(key) is None


def test_recorder_keeps_the_order_of_many_chunks(cache_home: Path) -> None:
    # More chunks than wait for the writer thread at once: the producer waits for it.
    key = "k" * 64
    chunks = [f"{i:05d}:".encode() * (i % 7) for i in range(cache._PENDING * 40)]
    with cache.Recorder(key) as recorder:
        assert list(recorder.tee(iter(chunks))) == chunks
        assert recorder.commit({"exit": 0})
    entry = cache.load(key)
    assert entry is not None and entry.payload == b"".join(chunks)


def test_recorder_that_fails_to_write_commits_nothing(cache_home: Path) -> None:
    # A full disk while the payload is written: the run goes on, no entry is made.
    key = "m" * 64
    with cache.Recorder(key) as recorder:
        recorder.write(b"written")
        assert recorder._handle is not None
        real = recorder._handle.write
        calls: list[bytes] = []

        def full(data: Any) -> int:
            # One payload write fails; the header's, later, would not.
            calls.append(bytes(data))
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            return real(data)

        recorder._handle.write = full  # type: ignore[method-assign]
        for chunk in (b"one", b"two", b"three"):
            recorder.write(chunk)
        assert not recorder.commit({"exit": 0})
        assert not recorder.recording
    assert list(cache_home.iterdir()) == []
    assert cache.load(key) is None


def test_recorder_refuses_a_meta_beyond_the_header_room(cache_home: Path) -> None:
    with cache.Recorder("g" * 64) as recorder:
        recorder.write(b"x")
        assert not recorder.commit({"summary": "x" * 5000})
        assert not recorder.recording
    assert list(cache_home.iterdir()) == []


def test_recorder_in_an_unwritable_place_only_stops_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(blocker / "cache"))
    with cache.Recorder("h" * 64) as recorder:
        assert not recorder.recording
        assert list(recorder.tee([b"a", b"b"])) == [b"a", b"b"]
        assert not recorder.commit({})


# ---- replaying to standard output -------------------------------------------------------------


def test_replay_to_passes_the_payload_on_only_when_intact(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "_BLOCK", 7)  # several blocks
    key = "t" * 64
    payload = "line one\nligne deux é\n".encode() * 5
    got: list[bytes] = []
    assert cache.replay_to(key, got.append) is None
    assert cache.store(key, cache.Entry(payload=payload, meta={"exit": 1}))
    assert cache.replay_to(key, got.append) == {"exit": 1}
    assert b"".join(got) == payload and len(got) > 1
    # A meta the caller does not accept: nothing passed on, the entry removed.
    got.clear()
    assert cache.replay_to(key, got.append, accept=lambda meta: "summary" in meta) is None
    assert got == [] and not (cache_home / f"{key}.entry").exists()
    # A damaged payload (same length): checked whole before anything is passed on.
    assert cache.store(key, cache.Entry(payload=payload, meta={}))
    path = cache_home / f"{key}.entry"
    data = path.read_bytes()
    path.write_bytes(data[:-3] + b"XYZ")
    assert cache.replay_to(key, got.append) is None
    assert got == [] and not path.exists()


def test_replay_fails_where_a_rewrite_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the file already holds the output: a run would have failed to write it."""
    key = "u" * 64
    target = tmp_path / "report.json"
    assert cache.store(key, cache.Entry(payload=b"{}\n", meta={}))
    assert cache.replay(key, target) == {}
    os.utime(target, (1000, 1000))
    assert cache.replay(key, target) == {}
    assert target.stat().st_mtime > 1000  # touched, as a rewrite would
    with pytest.raises(OutputError, match="does not exist"):
        cache.replay(key, tmp_path / "missing" / "r.json")

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match="Permission denied"):
        cache.replay(key, target)


def test_replay_leaves_the_file_when_the_entry_proves_damaged(cache_home: Path, tmp_path: Path) -> None:
    key = "v" * 64
    target = tmp_path / "report.json"
    target.write_bytes(b"previous\n")
    assert cache.store(key, cache.Entry(payload=b"x" * 100, meta={}))
    path = cache_home / f"{key}.entry"
    path.write_bytes(path.read_bytes()[:-1] + b"y")  # same length, wrong CRC
    assert cache.replay(key, target) is None
    assert target.read_bytes() == b"previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache-home", "report.json"]


# ---- the key of a check ------------------------------------------------------------------------


def test_pin_as_of_resolves_the_date_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zenpolicy.rules import timeutil

    root = _estate(tmp_path / "inv")
    assert cache.pin_as_of(CheckOptions(path=root)).as_of == "2026-11-26"  # the configuration's
    assert cache.pin_as_of(CheckOptions(path=root, as_of="2027-01-01")).as_of == "2027-01-01"
    (root / "zenpolicy.yaml").write_text("organisation: Test\n")
    monkeypatch.setattr(timeutil, "today", lambda: "2030-05-06")
    assert cache.pin_as_of(CheckOptions(path=root)).as_of == "2030-05-06"  # today
    day_one = _key(root)
    monkeypatch.setattr(timeutil, "today", lambda: "2030-05-07")
    assert _key(root) != day_one  # "today" is part of the key
    assert cache.pin_as_of(CheckOptions(path=root, extra={"no_cache": True})).as_of is None
    (root / "zenpolicy.yaml").write_text("as_of: not-a-date\n")
    assert cache.pin_as_of(CheckOptions(path=root)).as_of is None  # the run reports it


@pytest.mark.parametrize("where", ["example", "one-file"])
def test_key_from_a_runs_inputs_is_the_key_from_the_files(tmp_path: Path, where: str) -> None:
    path = REPO / "inventory" if where == "example" else _estate(tmp_path / "inv") / "people.yaml"
    options = cache.pin_as_of(CheckOptions(path=path))
    report = run_check(options)
    key = cache.check_key(options, render={"format": "json"})
    assert key is not None
    assert cache.check_key(options, render={"format": "json"}, inputs=report.inputs) == key
    assert tuple(cache.input_files(options.path)) == report.inputs


def test_unreadable_input_means_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(root: Path) -> list[object]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache, "input_files", unreadable)
    assert _key(_estate(tmp_path / "inv")) is None
