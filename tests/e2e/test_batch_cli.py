"""``voigpt batch`` as a person runs it: a real process against the emulator (with some
service time), killed with SIGKILL mid-run again and again, interrupted with Ctrl-C or
SIGTERM, starved of disk, then run to the end. Whatever happened, OUTPUT ends with every
custom_id exactly once, on whole lines."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from voigpt.emulator import Emulator, Fault

COUNT = 300
RESUME = "voigpt: interrupted; run the same command again to resume"


@pytest.fixture
def slow_site() -> Iterator[Emulator]:
    """An emulator that takes 20 ms per completion: a run of 300 at concurrency 8 takes
    about 0.75 s, long enough to be caught in the middle."""
    with Emulator() as emulator:
        emulator.inject(Fault.SLOW, times=None, delay=0.02)
        yield emulator


def write_input(path: Path, count: int = COUNT) -> Path:
    path.write_text("".join(json.dumps({
        "custom_id": f"id-{n}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{n}"}]},
    }) + "\n" for n in range(count)), encoding="utf-8")
    return path


def start(source: Path, output: Path, url: str, *extra: str,
          prefix: Sequence[str] = ("-m", "voigpt")) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    return subprocess.Popen(
        [sys.executable, *prefix, "batch", str(source), "-o", str(output), "--base-url", url,
         "--concurrency", "8", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


def run(source: Path, output: Path, url: str, *extra: str) -> tuple[int, str]:
    return finish(start(source, output, url, *extra))


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for_lines(path: Path, at_least: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while line_count(path) < at_least:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, f"no {at_least} lines in {path}"
        time.sleep(0.005)


def assert_every_id_exactly_once(output: Path, count: int = COUNT) -> None:
    raw = output.read_bytes()
    assert raw.endswith(b"\n")
    documents = [json.loads(text) for text in raw.decode("utf-8").splitlines()]
    found = [document["custom_id"] for document in documents]
    assert len(found) == len(set(found)), "a custom_id is there twice"
    assert sorted(found) == sorted(f"id-{n}" for n in range(count))
    assert all(d["error"] is None and d["response"]["status_code"] == 200 for d in documents)


def test_killed_with_sigkill_three_times_then_finished_gives_every_id_once(
    slow_site: Emulator, tmp_path: Path
) -> None:
    source, output = write_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    for at_least in (30, 120, 210):
        process = start(source, output, slow_site.url)
        wait_for_lines(output, at_least, process)
        process.kill()
        process.wait(10)
        assert line_count(output) < COUNT
    code, stderr = run(source, output, slow_site.url)
    assert code == 0, stderr
    assert stderr.splitlines()[-1].startswith(f"voigpt batch: {COUNT}/{COUNT} done (")
    assert_every_id_exactly_once(output)


def test_killed_at_random_moments_then_finished_gives_every_id_once(
    slow_site: Emulator, tmp_path: Path
) -> None:
    """Start-up, the scan of OUTPUT, the run, the end: a kill may land anywhere."""
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    source, output = write_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    for _ in range(3):
        process = start(source, output, slow_site.url)
        time.sleep(chance.uniform(0.0, 1.2))
        process.kill()
        process.wait(10)
    code, stderr = run(source, output, slow_site.url)
    assert code == 0, f"seed {seed}: {stderr}"
    assert_every_id_exactly_once(output)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_ctrl_c_or_sigterm_writes_what_finished_says_how_to_resume_and_exits_130(
    slow_site: Emulator, tmp_path: Path, signal_number: int
) -> None:
    source, output = write_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    process = start(source, output, slow_site.url)
    wait_for_lines(output, 40, process)
    process.send_signal(signal_number)
    code, stderr = finish(process)
    assert code == 130, stderr
    lines = stderr.splitlines()
    assert lines[-1] == RESUME
    assert " not tried, " in lines[-2] and lines[-2].startswith("voigpt batch: ")
    done = line_count(output)
    assert 40 <= done < COUNT and f"{done}/{COUNT} done" in lines[-2]
    assert all(json.loads(text)["custom_id"] for text in output.read_text().splitlines())
    if signal_number == signal.SIGINT:  # and resuming works (once is enough: it is slow)
        assert run(source, output, slow_site.url)[0] == 0
        assert_every_id_exactly_once(output)


def test_failures_exit_1_naming_errors_and_the_next_run_moves_them_to_output(
    slow_site: Emulator, tmp_path: Path
) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 40), tmp_path / "out.jsonl"
    slow_site.clear_faults()
    slow_site.inject(Fault.SERVER_ERROR, times=2, status=500)
    code, stderr = run(source, output, slow_site.url)
    errors = tmp_path / "out.errors.jsonl"
    assert code == 1
    assert stderr.splitlines()[-1].startswith(f"voigpt batch: 38/40 done, 2 failed (see {errors})")
    assert line_count(errors) == 2 and line_count(output) == 38
    code, stderr = run(source, output, slow_site.url, "--quiet")
    assert code == 0, stderr
    assert_every_id_exactly_once(output, 40)
    assert not errors.exists()


def test_bad_input_exits_2_listing_lines_and_sends_nothing(
    slow_site: Emulator, tmp_path: Path
) -> None:
    source = write_input(tmp_path / "in.jsonl", 30)
    with source.open("a") as file:
        file.write("not json\n" * 25)
    code, stderr = run(source, tmp_path / "out.jsonl", slow_site.url)
    assert code == 2
    lines = stderr.splitlines()
    assert lines[0].endswith("in.jsonl: 25 bad lines; nothing was sent")
    assert lines[1].startswith("  line 31: invalid JSON") and lines[-1] == "  ... and 5 more"
    assert slow_site.totals.requests == 0
    assert not (tmp_path / "out.jsonl").exists()


LIMITED = ("-c", "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           "resource.setrlimit(resource.RLIMIT_FSIZE, (30000, 30000)); sys.argv[0] = 'voigpt'; "
           "from voigpt.__main__ import main; sys.exit(main())")


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE (POSIX)")
def test_a_full_disk_stops_the_run_cleanly_and_the_next_run_finishes(
    slow_site: Emulator, tmp_path: Path
) -> None:
    """The process may write files of 30,000 bytes at most: the write that would pass it
    fails part-way (EFBIG, as ENOSPC would), which leaves a torn line to cut back."""
    source, output = write_input(tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    code, stderr = finish(start(source, output, slow_site.url, prefix=LIMITED))
    assert code == 1, stderr
    assert "File too large; the run stopped" in stderr
    assert "make room, then run the same command again to resume" in stderr
    raw = output.read_bytes()
    assert raw.endswith(b"\n") and 0 < line_count(output) < COUNT
    assert all(json.loads(text)["custom_id"] for text in raw.decode().splitlines())
    assert run(source, output, slow_site.url)[0] == 0
    assert_every_id_exactly_once(output)
