"""The writer's rules (analysis/writer.py): atomic for regular files, written through for devices
and FIFOs, symlinks followed and kept, no folder created that was not asked for."""
import os
import stat
import threading

import pytest

from analysis.errors import OutputError
from analysis.writer import check_file, make_folder, write_text
from conftest import QUICK_A

NO_CAL = ["--calibrations", "/nonexistent-calibrations"]


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    write_text(fifo, "through the pipe\n")
    reader.join(10)
    assert got == ["through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]  # no temporary file beside it


def test_a_symlink_to_a_regular_file_is_kept_and_its_target_replaced(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # the replaced file keeps its mode
    assert sorted(os.listdir(tmp_path / "real")) == ["out.json"]


def test_a_dangling_symlink_creates_its_target_not_a_file_in_its_place(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "target.json").read_text() == "x"


def test_a_character_device_is_written_through(tmp_path):
    write_text("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system (needs devtmpfs)")
def test_dev_full_is_a_clear_error_with_exit_2_and_stays_a_device(run):
    rc, _, err = run("compare", QUICK_A, QUICK_A, *NO_CAL, "--json", "/dev/full")
    assert rc == 2 and "/dev/full: cannot write (No space left on device)" in err
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)
    rc, _, err = run("report", QUICK_A, "-o", "/dev/full")
    assert rc == 2 and "/dev/full: a character device, not a folder" in err
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_a_folder_is_refused_as_a_file_target(run, tmp_path):
    rc, out, err = run("compare", QUICK_A, QUICK_A, *NO_CAL, "--json", tmp_path)
    assert rc == 2 and f"{tmp_path}: is a folder" in err
    assert out == ""  # refused before the comparison, not after it
    assert os.listdir(tmp_path) == []


def test_a_missing_parent_is_refused_and_not_created(run, tmp_path):
    rc, _, err = run("compare", QUICK_A, QUICK_A, *NO_CAL, "--json", tmp_path / "no" / "x.json")
    assert rc == 2 and "does not exist" in err and not (tmp_path / "no").exists()
    rc, _, err = run("compare", QUICK_A, QUICK_A, *NO_CAL, "--markdown", tmp_path / "no" / "x.md")
    assert rc == 2 and not (tmp_path / "no").exists()
    rc, _, err = run("history", tmp_path, "-o", tmp_path / "no" / "h.png")
    assert rc == 2 and not (tmp_path / "no").exists()


def test_report_creates_the_folder_it_was_given_but_not_its_parents(run, tmp_path):
    rc, _, err = run("report", QUICK_A, "-o", tmp_path / "a" / "b")
    assert rc == 2 and "its parent" in err and not (tmp_path / "a").exists()
    rc, _, _ = run("report", QUICK_A, "-o", tmp_path / "new")
    assert rc == 0 and (tmp_path / "new" / "index.html").is_file()


def test_a_read_only_file_is_refused_not_replaced(ordinary_user):
    """The user's own file in the user's own folder, mode 0444: refused, though the folder would
    let an atomic rename replace it."""
    p = os.path.join(ordinary_user.folder, "x.json")
    with open(p, "w", encoding="utf-8") as f:
        f.write("kept")
    ordinary_user.own(p)
    os.chmod(p, 0o444)
    r = ordinary_user.python("-c", "import sys\nfrom analysis.errors import OutputError\nfrom analysis.writer import write_text\n"
                             "try:\n    write_text(sys.argv[1], 'new')\nexcept OutputError as e:\n    sys.exit(f'refused: {e}')", p)
    assert r.returncode == 1 and "refused: " in r.stderr and "not writable" in r.stderr, r.stderr
    assert open(p, encoding="utf-8").read() == "kept"


def test_proc_refuses_new_files_even_for_root():
    with pytest.raises(OutputError, match="cannot create anything in /proc"):
        check_file("/proc/swapbench-test.md")
    with pytest.raises(OutputError, match="cannot create anything in /proc"):
        make_folder("/proc/swapbench-test")


def test_a_fifo_whose_reader_takes_nothing_is_waited_on_aloud_then_given_up(tmp_path, monkeypatch, capsys):
    """Issue 19, item 9: never a silent hang. The reader opens the FIFO with a one-page buffer and
    never reads (the patience is shortened here from 10 s and 600 s)."""
    import fcntl
    from analysis import writer
    monkeypatch.setattr(writer, "NOTICE_S", 0.2)
    monkeypatch.setattr(writer, "PATIENCE_S", 0.6)
    fifo = tmp_path / "stalled"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(rfd, fcntl.F_SETPIPE_SZ, 4096)
        with pytest.raises(OutputError, match="its reader took nothing for 0.6 s"):
            write_text(fifo, "x" * 100000)
    finally:
        os.close(rfd)
    assert "waiting for the reader of" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
