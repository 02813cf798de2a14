"""The located YAML loader and the byte-level checks: positions, bounds, hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.config import load_config, validate_config
from reconciler.config.files import MAX_FILE_BYTES
from reconciler.config.yamlsafe import MAX_DOCUMENTS, parse_documents
from reconciler.errors import ConfigError
from tests.config.helpers import FIXTURES, VALID, codes_at, problems_of


def test_positions_of_mappings_keys_and_items() -> None:
    text = "kind: Access\nadmins:\n  - jane\n  - mark\ncontributors: [ann]\n"
    (document,), issues = parse_documents(text, "a.yaml")
    assert issues == []
    assert document.data == {"kind": "Access", "admins": ["jane", "mark"], "contributors": ["ann"]}
    assert (document.start.line, document.start.column) == (1, 1)
    assert document.key_at(("admins",)).line == 2
    assert document.at(("admins", 1)).line == 4
    assert document.at(("admins", 1)).column == 5
    assert document.at(("contributors", 0)).column == 16
    # an absent path falls back to its nearest present parent
    assert document.at(("admins", 7, "x")) == document.at(("admins", 7)) == document.at(("admins",))


def test_dates_stay_text_and_documents_are_counted_in_their_file() -> None:
    text = "---\nkind: Access\nwhen: 2026-01-15\n---\n---\nkind: Access\n"
    documents, issues = parse_documents(text, "a.yaml")
    assert issues == []
    assert [d.index for d in documents] == [0, 2]
    assert documents[0].data == {"kind": "Access", "when": "2026-01-15"}
    assert documents[1].start.line == 6


def test_merge_keys_and_aliases_are_supported_within_bounds() -> None:
    text = VALID.replace(
        "fields: {email: email}", "fields: &f {email: email}\nlimits: {max_profiles: 10}"
    )
    text += "---\n" + (
        "kind: Export\nname: second\nsegment: all\nconnection: main\nlist_id: Zz9999\n"
        "fields: {<<: {email: email, first_name: first}, last_name: last}\n"
    )
    assert problems_of(text) == []
    documents, _ = parse_documents("a: &x [1, 2]\nb: *x\n", "a.yaml")
    assert documents[0].data == {"a": [1, 2], "b": [1, 2]}
    assert documents[0].at(("b",)).line == 2  # where the alias is used


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    started = time.perf_counter()
    problems = problems_of("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2.0
    assert [p.code for p in problems] == ["R004"]
    assert "aliases expand" in problems[0].message


def test_recursive_alias_and_deep_nesting_are_refused() -> None:
    assert [p.code for p in problems_of("a: &a [*a]\n")] == ["R006"]
    assert [p.code for p in problems_of("[" * 3000 + "]" * 3000)] == ["R004"]
    nested = "kind: Access\nadmins: " + "[" * 60 + "]" * 60 + "\n"
    assert [p.code for p in problems_of(nested)] == ["R004"]


def test_too_many_documents() -> None:
    text = "kind: Access\n---\n" * (MAX_DOCUMENTS + 5)
    problems = problems_of(text)
    assert "R004" in {p.code for p in problems}
    assert any(f"more than {MAX_DOCUMENTS} documents" in p.message for p in problems)


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"kind: Access\x00\x01\x02", "R003", "binary"),
        (b"kind: Access\nadmins: [caf\xe9]\n", "R003", "not valid UTF-8"),
        ("kind: Access\n".encode("utf-16"), "R003", "UTF-16"),
        (b"kind: Access\nadmins: [a\x07]\n", "R003", "control character"),
        (b"", "R005", "no YAML document"),
        (b"  \n# only a comment\n", "R005", "no YAML document"),
        (b"# x\n" * (MAX_FILE_BYTES // 4 + 1), "R004", "larger than 1 MiB"),
    ],
)
def test_unreadable_files_get_clear_errors(content: bytes, code: str, words: str) -> None:
    problems = problems_of(content)
    assert [p.code for p in problems] == [code]
    assert words in problems[0].message


def test_non_utf8_error_points_at_the_byte() -> None:
    (problem,) = problems_of(b"kind: Access\nadmins: [caf\xe9]\n")
    assert (problem.line, problem.column) == (2, 13)


def test_utf8_bom_is_accepted() -> None:
    assert problems_of(b"\xef\xbb\xbf" + VALID.encode()) == []


def test_a_broken_file_does_not_cause_false_reference_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace(SEGMENT_MARK, "x"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("kind: Segment\nname: all\n  source: [\n", encoding="utf-8")
    _, problems = validate_config(tmp_path)
    assert {p.code for p in problems} == {"R001"}


SEGMENT_MARK = "kind: Segment\nname: all\nsource: crm\ntable: people\n"


def test_directory_walk_is_recursive_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "team" / "deep").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "team" / "deep" / "all.yml").write_text(VALID, encoding="utf-8")
    (tmp_path / ".hidden" / "broken.yaml").write_text("{{{", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("{{{", encoding="utf-8")
    config = load_config(tmp_path)
    assert set(config.exports) == {"all-to-list"}
    assert config.origins["Export/all-to-list"].endswith("team/deep/all.yml:15")


def test_missing_or_empty_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nope")
    assert [p.code for p in missing.value.problems] == ["R007"]
    assert "does not exist" in missing.value.problems[0].message
    _, problems = validate_config(tmp_path)
    assert codes_at(problems) == [("R007", 1)]


def test_load_config_raises_errors_only_and_keeps_every_one(tmp_path: Path) -> None:
    fixture = (FIXTURES / "r022_same_list.yaml").read_text(encoding="utf-8")
    (tmp_path / "x.yaml").write_text(fixture + "---\nkind: Acces\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert {p.code for p in caught.value.problems} == {"R022", "R010"}
    assert all(p.severity == "error" for p in caught.value.problems)


def test_pure_python_parser_gives_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.config import yamlsafe

    text = VALID + "---\nkind: Access\nadmins: &a [jane]\ncontributors: *a\n"
    fast, fast_issues = parse_documents(text, "a.yaml")
    monkeypatch.setattr(yamlsafe, "_C_PARSER", None)
    slow, slow_issues = parse_documents(text, "a.yaml")
    assert fast_issues == slow_issues == []
    assert [(d.data, d.values, d.keys) for d in fast] == [(d.data, d.values, d.keys) for d in slow]
    _, issues = parse_documents("a: [1\n", "a.yaml")
    assert [(i.code, i.mark.line) for i in issues] == [("R001", 2)]


def test_special_and_unreadable_files_are_reported(tmp_path: Path) -> None:
    import os

    (tmp_path / "ok.yaml").write_text(VALID, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    _, problems = validate_config(tmp_path)
    assert sorted((Path(p.file).name, p.code) for p in problems) == [
        ("gone.yaml", "R007"),
        ("pipe.yaml", "R007"),
    ]
