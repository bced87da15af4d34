"""Hostile YAML (alias bombs, deep nesting, huge files, duplicate keys, long strings) is refused
with a one-line error naming the file and the line, by the library and through the CLI."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from corridors.network.speeds import SpeedTableError, default_speeds_path, load_speed_table

from corridors.catalog.model import CATALOG_FILES, default_catalog_dir, read_raw
from corridors.catalog.route_lengths import route_lengths_path
from corridors.catalog.scenario import read_scenario
from corridors.core.safe_yaml import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_SCENARIO_BYTES,
    MAX_STRING,
    YamlInputError,
    load_yaml,
)
from tests.helpers import run


def _bomb(levels: int = 9) -> str:
    """A billion-laughs alias bomb: 10**levels copies of "lol" once expanded."""
    lines = ['lol0: &a0 "lol"']
    lines += [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _nested(levels: int = 200) -> str:
    """A mapping nested ``levels`` deep, in block style."""
    return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "leaf: 1\n"


# Each case: a scenario text and what its one-line error must say.
SCENARIOS = {
    "bomb": ("name: bomb\ndescription:\n" + "".join("  " + line + "\n"
                                                    for line in _bomb().splitlines()),
             ["line 3", "anchor &a0", "not allowed"]),
    "nested": ("name: deep\nprojects:\n" + "".join("  " + line + "\n"
                                                   for line in _nested(200).splitlines()),
               [f"nested deeper than {MAX_DEPTH} levels"]),
    "duplicate": ("name: dup\nprojects:\n  drop: [a3_4_04]\n  drop: [a3_3_01]\n",
                  ["line 4", "duplicate key 'drop'", "first given at line 3"]),
    "huge": ("name: huge\n" + "# padding\n" * (2_000_000 // 10),
             ["file too large", f"{MAX_SCENARIO_BYTES:,}"]),
    "description": (f"name: long\ndescription: {'x' * 5000}\n",
                    ["line 2", "field 'description'", "5,000 characters", "limit is 2,000"]),
    "long_field": (f"name: long\nprojects:\n  drop: [{'y' * (MAX_STRING + 1)}]\n",
                   ["line 3", "'projects.drop[0]'", f"limit is {MAX_STRING:,}"]),
}


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_alias_bomb_is_refused_before_any_expansion():
    started = time.perf_counter()
    with pytest.raises(YamlInputError, match="anchor &a0 refused"):
        load_yaml(_bomb(9), what="the test")
    assert time.perf_counter() - started < 0.5


def test_a_lone_alias_is_refused_too():
    with pytest.raises(YamlInputError, match=r"line 1: anchor &x"):
        load_yaml("a: &x 1\nb: *x\n", what="the test")


@pytest.mark.parametrize("text", [_nested(200), "[" * 200 + "]" * 200,
                                  "{a: " * 200 + "1" + "}" * 200])
def test_deep_nesting_is_refused_without_recursion(text):
    with pytest.raises(YamlInputError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(text, what="the test")


def test_nesting_up_to_the_limit_loads():
    doc = load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, what="the test")
    for _ in range(MAX_DEPTH - 1):
        doc = doc[0]
    assert doc == []
    with pytest.raises(YamlInputError):
        load_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), what="the test")


def test_duplicate_keys_name_the_key_and_both_lines():
    with pytest.raises(YamlInputError) as err:
        load_yaml("a: 1\nb:\n  c: 2\n  c: 3\n", what="the test", name="x.yaml")
    assert str(err.value) == "x.yaml: line 4: duplicate key 'c' (first given at line 3)"
    assert [(p.file, p.entry, p.field) for p in err.value.problems] == [("x.yaml", "-", "-")]


def test_size_and_string_limits():
    with pytest.raises(YamlInputError, match="too large"):
        load_yaml("a: 1\n" + "#" * 100, what="the test", max_bytes=50)
    with pytest.raises(YamlInputError, match=r"field 'a\.b' is 11 characters"):
        load_yaml("a:\n  b: hello world\n", what="the test", max_string=10)
    assert load_yaml("a: hello\n", what="the test", string_limits={"a": 5}) == {"a": "hello"}


def test_syntax_errors_are_left_to_the_caller():
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1,\n", what="the test")


@pytest.mark.parametrize("case", sorted(SCENARIOS))
def test_read_scenario_refuses(tmp_path, case):
    text, expected = SCENARIOS[case]
    path = _write(tmp_path, text)
    started = time.perf_counter()
    with pytest.raises(YamlInputError) as err:
        read_scenario(path)
    assert time.perf_counter() - started < 1.0
    message = str(err.value)
    assert "\n" not in message and message.startswith("bad.yaml: ")
    for part in expected:
        assert part in message


@pytest.mark.parametrize("case", sorted(SCENARIOS))
def test_run_refuses_with_one_line_and_writes_nothing(tmp_path, case):
    text, expected = SCENARIOS[case]
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    result = run("run", "--scenario", str(path), "--out", str(out), catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: bad.yaml: ")
    for part in expected:
        assert part in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


# Catalog files: (file name, text); the file name decides how the catalog reads it.
CATALOGS = {
    "bomb_by_content": ("mine.yaml", "corridors:\n  - id: x\n    note:\n"
                        + "".join("      " + line + "\n" for line in _bomb().splitlines())),
    "bomb_by_name": ("corridors.yaml", "corridors:\n  - id: x\n    note:\n"
                     + "".join("      " + line + "\n" for line in _bomb().splitlines())),
    "nested": ("corridors.yaml", "corridors:\n" + _nested(200).replace("\n", "\n  ")),
    "duplicate": ("corridors.yaml", "corridors: []\ncorridors: []\n"),
    "huge": ("corridors.yaml", "corridors: []\n" + "# padding\n" * (MAX_BYTES // 10 + 1)),
}


@pytest.mark.parametrize("case", sorted(CATALOGS))
def test_catalog_problem_is_collected(tmp_path, case):
    name, text = CATALOGS[case]
    raw = read_raw(_write(tmp_path, text, name))
    errors = [p for p in raw.problems if p.severity == "error"]
    assert len(errors) == 1
    assert (errors[0].file, errors[0].entry, errors[0].field) == (name, "-", "-")


@pytest.mark.parametrize("case", sorted(CATALOGS))
def test_validate_refuses_with_one_problem_line(tmp_path, case):
    name, text = CATALOGS[case]
    path = _write(tmp_path, text, name)
    result = run("validate", str(path), catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{name}: -: -: error: ")
    assert "line " in errors[0] or "file too large" in errors[0]


def test_speed_table_refuses_aliases(tmp_path):
    path = _write(tmp_path, "a: &x 1\nb: *x\n", "speeds.yaml")
    with pytest.raises(SpeedTableError, match=r"speeds\.yaml: line 1: anchor &x"):
        load_speed_table(path)


def test_shipped_files_load_unchanged_and_are_far_under_the_limits():
    files = [default_catalog_dir() / n for n in CATALOG_FILES] + [route_lengths_path(),
                                                                  default_speeds_path()]
    for path in files:
        assert path.stat().st_size < MAX_BYTES / 20, path
        assert load_yaml(path, what="a shipped file") == \
            yaml.safe_load(path.read_text(encoding="utf-8")), path
    assert not [p for p in read_raw().problems if p.severity == "error"]
    load_speed_table()
