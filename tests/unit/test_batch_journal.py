"""OUTPUT is the record of what is done: the ids of its complete lines are skipped on resume,
a torn last line is cut off (never copied forward), anything else odd is refused, a failed
write leaves the file as it was, and two runs cannot write it at once."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from voigpt.entrypoints.batch import journal as journal_module
from voigpt.entrypoints.batch.journal import BadOutputFile, Journal, TornTail
from voigpt.entrypoints.batch.plan import errors_path_for, prepare


def result(custom_id: str) -> bytes:
    document = {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
                "response": {"status_code": 200, "request_id": "r", "body": {}}, "error": None}
    return (json.dumps(document) + "\n").encode()


def opened(path: Path) -> Journal:
    journal = Journal(path)
    journal.close()
    return journal


def test_a_new_output_is_created_empty(tmp_path: Path) -> None:
    journal = opened(tmp_path / "out.jsonl")
    assert (journal.done, journal.torn) == (set(), None)
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_the_ids_of_complete_lines_are_done(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(result("a") + result("b"))
    journal = opened(path)
    assert (journal.done, journal.torn) == ({"a", "b"}, None)


@pytest.mark.parametrize("tail", [
    result("c")[:-1],            # the whole line but its newline
    result("c")[:25],            # cut mid-way
    b'{"custom_id": "c", "resp\n',   # a newline, but not JSON (cut, then garbage)
    b"\0" * 40,                  # a power cut: the size grew, the data never came
], ids=["no-newline", "mid-way", "not-json", "zeros"])
def test_a_torn_last_line_is_cut_off_and_reported(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "out.jsonl"
    good = result("a") + result("b")
    path.write_bytes(good + tail)
    journal = opened(path)
    assert journal.done == {"a", "b"}
    assert journal.torn == TornTail(line=3, size=len(tail))
    assert path.read_bytes() == good
    assert opened(path).torn is None  # repaired once and for all


def test_appending_after_a_repair_gives_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(result("a") + result("b")[:30])
    journal = Journal(path)
    journal.append(result("b"))
    journal.close()
    assert path.read_bytes() == result("a") + result("b")


def test_a_bad_line_before_good_ones_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    content = result("a") + b"garbage\n" + result("b")
    path.write_bytes(content)
    with pytest.raises(BadOutputFile, match="line 2 is not a batch result line"):
        Journal(path)
    assert path.read_bytes() == content


def test_a_whole_line_that_is_not_a_success_is_refused_not_truncated(tmp_path: Path) -> None:
    """Say OUTPUT and ERRORS were swapped by mistake: its error lines are kept."""
    path = tmp_path / "out.jsonl"
    error = {"id": "x", "custom_id": "a", "response": None,
             "error": {"code": "timed_out", "message": "slow"}}
    content = (json.dumps(error) + "\n").encode()
    path.write_bytes(content)
    with pytest.raises(BadOutputFile, match="line 1"):
        Journal(path)
    assert path.read_bytes() == content


def test_a_second_run_on_the_same_output_is_refused_while_the_first_holds_it(
    tmp_path: Path,
) -> None:
    first = Journal(tmp_path / "out.jsonl")
    try:
        with pytest.raises(BadOutputFile, match="another voigpt batch is writing"):
            Journal(tmp_path / "out.jsonl")
    finally:
        first.close()
    opened(tmp_path / "out.jsonl")  # free again


def test_a_write_that_fails_half_way_is_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk: the OS takes part of the line, then refuses the rest."""
    path = tmp_path / "out.jsonl"
    journal = Journal(path)
    journal.append(result("a"))
    real_write, calls = os.write, []

    def disk_fills(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", disk_fills)
    with pytest.raises(OSError, match="No space left"):
        journal.append(result("b"))
    monkeypatch.undo()
    assert len(calls) == 2
    assert path.read_bytes() == result("a")
    journal.append(result("c"))
    journal.close()
    assert opened(path).done == {"a", "c"}


@pytest.mark.parametrize(("output", "errors"), [
    ("out.jsonl", "out.errors.jsonl"),
    ("results", "results.errors.jsonl"),
    ("run.json", "run.json.errors.jsonl"),
    ("dir/x.y.jsonl", "dir/x.y.errors.jsonl"),
])
def test_errors_is_named_after_output(output: str, errors: str) -> None:
    assert errors_path_for(Path(output)) == Path(errors)


def write_input(path: Path, *ids: str) -> Path:
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    path.write_text("".join(
        json.dumps({"custom_id": i, "method": "POST", "url": "/v1/chat/completions",
                    "body": body}) + "\n" for i in ids), encoding="utf-8")
    return path


def test_the_plan_skips_what_output_holds_and_removes_the_last_errors(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", "a", "b", "c")
    (tmp_path / "out.jsonl").write_bytes(result("a") + result("zz") + result("b")[:9])
    (tmp_path / "out.errors.jsonl").write_text("stale\n")
    plan = prepare(source, tmp_path / "out.jsonl")
    plan.close()
    assert (plan.total, plan.skipped, plan.pending) == (3, 1, {"b", "c"})
    assert plan.errors == tmp_path / "out.errors.jsonl" and not plan.errors.exists()


def test_bad_input_touches_neither_output_nor_errors(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("{bad\n")
    (tmp_path / "out.errors.jsonl").write_text("kept\n")
    with pytest.raises(ValueError, match="1 bad line"):
        prepare(source, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    assert (tmp_path / "out.errors.jsonl").read_text() == "kept\n"


@pytest.mark.parametrize(("output", "errors"), [("in.jsonl", None), ("out.jsonl", "out.jsonl")])
def test_input_output_and_errors_must_be_different_files(
    tmp_path: Path, output: str, errors: str | None
) -> None:
    source = write_input(tmp_path / "in.jsonl", "a")
    with pytest.raises(ValueError, match="are the same file"):
        prepare(source, tmp_path / output, tmp_path / errors if errors else None)
    assert source.read_text().count("\n") == 1
