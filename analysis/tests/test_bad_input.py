"""Every verb's bad input ends in one line naming the problem and exit 2, never a traceback.

All cases run in process (an exception escaping the verb fails the test with its traceback); the
defect-9 cases also run as the front door runs them (python3 -m analysis, a child process), where
a traceback would be printed."""
import json
import os
import subprocess
import sys

import pytest

from analysis.__main__ import main as analysis_main
from conftest import CALIBRATE, QUICK_A, read

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NO_CAL = ["--calibrations", "/nonexistent-calibrations"]


def bad_files(d):
    """name -> path of a result file that is wrong in one way."""
    def doc(change):
        x = read(QUICK_A)
        change(x)
        return json.dumps(x)
    first = lambda x: next(b for b in x["benchmarks"] if b["run_type"] == "iteration")  # noqa: E731
    texts = {
        "not-json.json": "{",
        "binary.json": None,
        "not-a-result.json": '{"name": "left-pad"}',
        "a-list.json": "[1, 2]",
        "context-a-list.json": '{"context": [], "benchmarks": []}',
        "schema-2.json": doc(lambda x: x["context"]["swapbench"].update(schema_version=2)),
        "no-schema.json": doc(lambda x: x["context"]["swapbench"].pop("schema_version")),
        "kernel-a-string.json": doc(lambda x: x["context"]["swapbench"].update(kernel="6.1")),
        "entry-a-string.json": doc(lambda x: x["benchmarks"].insert(0, "oops")),
        "no-latency.json": doc(lambda x: first(x)["swapbench"].pop("latency_ns")),
        "latency-a-string.json": doc(lambda x: first(x)["swapbench"]["latency_ns"].update(p50="fast")),
        "real-time-a-string.json": doc(lambda x: first(x).update(real_time="slow")),
        "histogram-garbage.json": doc(lambda x: first(x)["swapbench"]["histogram"].update(buckets=[[1, 2]])),
        "no-benchmarks.json": doc(lambda x: x.update(benchmarks=[])),
    }
    out = {}
    for name, text in texts.items():
        p = d / name
        if text is None:
            p.write_bytes(b"\xff\xfe\x00binary")
        else:
            p.write_text(text)
        out[name] = str(p)
    return out


def cases(d):
    files = bad_files(d)
    (d / "empty").mkdir()
    missing = str(d / "missing.json")
    yield from (["compare", QUICK_A, p, *NO_CAL] for p in [missing, str(d), *files.values()])
    yield from (["report", p, "-o", str(d / "r")] for p in [missing, *files.values()])
    yield from (["calibrate", "--from", p] for p in [missing, QUICK_A, files["schema-2.json"]])
    yield from (["compare", QUICK_A, QUICK_A, *NO_CAL, *flags] for flags in (
        ["--threshold", "nan"], ["--threshold", "-1"], ["--alpha", "5"], ["--alpha", "0"],
        ["--json", str(d)], ["--json", str(d / "no" / "x.json")], ["--markdown", "/proc/x.md"],
        ["--json", "/sys/x.json"], ["--metric", "p42"], ["--json", str(d / "empty" / "x" / "y.json")]))
    yield from (["report", QUICK_A, *flags] for flags in (
        ["-o", "/dev/full"], ["-o", "/proc/foo"], ["-o", str(d / "no" / "r")], ["-o", QUICK_A],
        ["-o", str(d / "r"), "--base", "3"], ["-o", str(d / "r"), "--base", "0"], ["-o", str(d / "r"),
                                                                                 "--threshold", "200"]))
    yield from (["history", *args] for args in (
        [str(d / "nothing-here")], [QUICK_A], [str(d / "empty")], [str(d), "--metric", "p42"],
        [str(d), "-o", str(d)], [str(d), "-o", str(d / "no" / "h.png")], [str(d), "-o", "/proc/h.png"],
        [str(d), "--set", "nope"]))
    yield from (["calibrate", "--from", CALIBRATE, *flags] for flags in (
        ["-k", "0"], ["--experiments", "0"], ["--out", str(d)], ["--out", str(d / "no" / "c.json")],
        ["--out", "/proc/c.json"], ["--metric", "pages_per_second"]))
    # Issue 19, item 9 (the same class in other options): a calibrations "folder" that is a file or a
    # device was passed over in silence (default threshold); one run given twice passed for two.
    yield ["compare", QUICK_A, QUICK_A, "--calibrations", "/dev/zero"]
    yield ["compare", QUICK_A, QUICK_A, "--calibrations", QUICK_A]
    yield ["report", QUICK_A, "-o", str(d / "r"), "--calibrations", QUICK_A]
    yield ["calibrate", "--from-runs", QUICK_A, QUICK_A]
    yield ["calibrate"]  # measuring needs SWAPBENCH_BIN, which is unset here: refused, nothing run
    yield ["calibrate", "--pool", "0"]
    yield ["compare"]
    yield ["nonsense"]


@pytest.fixture
def results_env(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    monkeypatch.setenv("SWAPBENCH_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("SWAPBENCH_BIN", raising=False)  # calibrate without --from must refuse, never run it
    bad = tmp_path / "bad"
    bad.mkdir()
    return bad


def test_bad_input_to_every_verb_exits_2_with_one_clear_line(results_env, capsys):
    bad, failures = results_env, []
    for argv in cases(bad):
        try:
            rc = analysis_main(argv)
        except SystemExit as e:  # argparse: usage and exit 2
            rc = e.code
        err = capsys.readouterr().err.strip()
        if rc != 2 or not err:
            failures.append(f"{' '.join(argv)}: exit {rc}: {err[-400:]}")
    assert not failures, "\n".join(failures)
    assert not (bad / "r").exists() and not (bad / "no").exists()  # nothing made for a refused run
    assert os.listdir(bad / "empty") == []
    if os.path.exists("/dev/full"):
        assert not os.path.isdir("/dev/full") and not os.path.isfile("/dev/full")


def test_the_reported_cases_print_no_traceback_through_the_front_door(results_env, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    for argv in (["report", QUICK_A, "-o", "/dev/full"], ["report", QUICK_A, "-o", "/proc/foo"],
                 ["compare", QUICK_A, QUICK_A, *NO_CAL, "--markdown", "/proc/x.md"],
                 ["compare", QUICK_A, QUICK_A, *NO_CAL, "--json", str(tmp_path)],
                 ["compare", QUICK_A, QUICK_A, *NO_CAL, "--json", str(tmp_path / "nonexistent" / "x.json")]):
        p = subprocess.run([sys.executable, "-m", "analysis", *argv], env=env, capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 2 and "Traceback" not in p.stderr, (argv, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and argv[-1] in p.stderr
    assert not (tmp_path / "nonexistent").exists() and not os.path.exists("/proc/foo")


def test_an_unreadable_result_is_a_clear_error(ordinary_user):
    p = os.path.join(ordinary_user.folder, "secret.json")
    with open(p, "w", encoding="utf-8") as f:
        f.write(open(QUICK_A, encoding="utf-8").read())
    ordinary_user.own(p)
    os.chmod(p, 0)
    r = ordinary_user.python("-m", "analysis", "compare", QUICK_A, p, *NO_CAL)
    assert r.returncode == 2 and "secret.json: cannot read (Permission denied)" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


# Issue 19, item 9: what is not a regular file is refused at once, naming it, never read for ever.
def test_compare_dev_zero_a_fifo_or_a_folder_is_refused_at_once(results_env, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)  # nothing ever writes it: opening it for reading must not wait for a writer
    for argv, says in ((["compare", "/dev/zero", QUICK_A], "/dev/zero: is a character device, not a regular file"),
                       (["compare", QUICK_A, str(fifo)], f"{fifo}: is a FIFO, not a regular file"),
                       (["compare", str(fifo)], f"{fifo}: is a FIFO, not a regular file"),
                       (["report", "/dev/zero", "-o", str(tmp_path / "r")], "/dev/zero: is a character device"),
                       (["calibrate", "--from", "/dev/zero"], "/dev/zero: is a character device"),
                       (["compare", QUICK_A, str(tmp_path), QUICK_A, "--", QUICK_A], "a folder")):
        p = subprocess.run([sys.executable, "-m", "analysis", *argv], env=env, capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 2 and says in p.stderr and "Traceback" not in p.stderr, (argv, p.stderr)
    assert not (tmp_path / "r").exists()


def test_a_fifo_named_json_in_the_results_folder_is_skipped_not_waited_on(results_env, tmp_path):
    from analysis import store
    os.mkfifo(tmp_path / "results" / "stuck.json")
    cal = tmp_path / "results" / "calibration"
    cal.mkdir()
    os.mkfifo(cal / "stuck.json")
    found, skipped = store.list_results(str(tmp_path / "results"))
    assert found == [] and any("is a FIFO" in s for s in skipped)
    assert store.read_calibration(str(cal / "stuck.json")) is None
    assert store.find_calibration(("h", "c", "a"), folder=str(cal)) is None


def test_an_output_fifo_without_a_reader_is_refused_before_the_work(results_env, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    p = subprocess.run([sys.executable, "-m", "analysis", "compare", QUICK_A, QUICK_A, *NO_CAL, "--json", str(fifo)],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and f"{fifo}: a FIFO with no reader" in p.stderr, p.stderr
    assert "B/A" not in p.stdout  # refused before the comparison, not after it


@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user calibrate refuses earlier, for needing root")
def test_calibrate_options_the_run_would_refuse_are_refused_before_anything_is_made(results_env, tmp_path, capsys,
                                                                                     monkeypatch):
    binary = os.environ.get("SWAPBENCH_TEST_BIN") or os.path.join(ROOT, "build", "bench", "swapbench")
    assert os.access(binary, os.X_OK), f"no suite binary at {binary}: build it or set SWAPBENCH_TEST_BIN"
    monkeypatch.setenv("SWAPBENCH_BIN", binary)
    for argv, says in ((["calibrate", "--compressor", "lz5"], "--compressor 'lz5': not a zswap or zram compressor"),
                       (["calibrate", "--design", "sets", "--pages", "999999999"], "--pages 999999999"),
                       (["calibrate", "--between-runs", "3", "--compressor", "lz5"], "--compressor 'lz5'")):
        assert analysis_main(argv) == 2
        err = capsys.readouterr().err
        assert says in err, err
        # nothing made: no calibration folder, no run started
        assert os.listdir(tmp_path / "results") == [], os.listdir(tmp_path / "results")
