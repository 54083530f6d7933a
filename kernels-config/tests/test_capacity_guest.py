"""kmatrix/capacity.py's pure parts: the guest's command line, the chain size from a kernel config,
and the boot archive carrying the pages (unpacked with cpio as the kernel would)."""
import os
import subprocess

import pytest

from kmatrix import capacity


def test_guest_args_swap_on_the_guests_disk_with_every_allocator():
    a = capacity.guest_args().split()
    assert a[:2] == ["--validate", capacity.GUEST_PAGES_PATH]
    assert a[a.index("--zpool") + 1] == "all"
    assert a[a.index("--swap-device") + 1] == "/dev/vda"
    assert "--compressor" not in a
    b = capacity.guest_args(["lz4", "zstd"], "zbud").split()
    assert b[b.index("--compressor") + 1] == "lz4,zstd" and b[b.index("--zpool") + 1] == "zbud"


def test_chain_size_from_config():
    assert capacity.chain_size({"ZSMALLOC_CHAIN_SIZE": "8"}) == 8
    assert capacity.chain_size({"ZSMALLOC": "y"}) is None  # 6.1: no such option, the model's 4
    assert capacity.chain_size({"ZSMALLOC_CHAIN_SIZE": "x"}) is None


def test_pages_archive_holds_the_pages_byte_for_byte(tmp_path):
    # The pages arrive in a memfd (analysis/capacity/) and go straight into the archive.
    raw = os.memfd_create("pages")
    data = bytes(range(256)) * 32 + os.urandom(4096) + b"odd"  # not a multiple of 4: the padding
    os.write(raw, data)
    out = tmp_path / "pages.cpio"
    with open(out, "wb") as f:
        capacity._pages_archive(raw, f)
    os.close(raw)
    x = tmp_path / "x"
    x.mkdir()
    with open(out, "rb") as f:
        subprocess.run(["cpio", "-i", "-d", "--quiet"], cwd=x, stdin=f, check=True)
    assert (x / capacity.GUEST_PAGES_PATH.lstrip("/")).read_bytes() == data
    assert oct((x / capacity.GUEST_PAGES_PATH.lstrip("/")).stat().st_mode & 0o777) == "0o600"
    # Uncompressed newc: the kernel's initramfs unpacker tells it from the gzip'd base by this magic.
    assert out.read_bytes()[:6] == b"070701"


def test_kernels_that_cannot_validate_are_skipped_with_why(tmp_path, monkeypatch):
    # No boot happens for any of these: each is refused before its files are fetched.
    monkeypatch.setenv("SWAPBENCH_KERNEL_CACHE", str(tmp_path / "cache"))
    raw = os.memfd_create("pages")
    os.write(raw, bytes(4096))
    out = capacity.validate_in_guests(["running", "nosuch"], raw)
    assert [o["kernel"] for o in out] == ["running", "nosuch"]
    assert "this host" in out[0]["skipped"] and "--validate" in out[0]["skipped"]
    assert "unknown kernel 'nosuch'" in out[1]["skipped"]
    assert not (tmp_path / "cache").exists()


def test_the_capacity_binary_is_required(monkeypatch, tmp_path):
    import pytest
    from kmatrix.defs import KernelError
    monkeypatch.setenv("SWAPBENCH_CAPACITY_BIN", str(tmp_path / "missing"))
    with pytest.raises(KernelError, match="no swapbench-capacity binary"):
        capacity.capacity_binary()


def test_a_run_folder_left_by_a_killed_validation_is_removed_by_the_next(tmp_path):
    # A kill -9 leaves the run folder (boot archive, swap disk: the pages); the next validation
    # removes it when its owner is gone, and leaves a live one's alone.
    import time
    dead, live, ownerless, fresh = (tmp_path / n for n in ("capacity-dead", "capacity-live", "capacity-old", "capacity-new"))
    for d in (dead, live, ownerless, fresh):
        d.mkdir()
        (d / "initrd").write_bytes(b"pages")
    gone = subprocess.Popen(["true"])
    gone.wait()
    (dead / capacity.OWNER).write_text(f"{gone.pid} {capacity._boot_id()}\n")
    (live / capacity.OWNER).write_text(f"{os.getpid()} {capacity._boot_id()}\n")
    old = time.time() - 3600
    os.utime(ownerless, (old, old))
    capacity.remove_stale_runs(str(tmp_path))
    assert not dead.exists() and not ownerless.exists()
    assert live.exists() and fresh.exists()


def test_a_boot_lost_to_the_infrastructure_is_booted_again_once_and_recorded(monkeypatch):
    from kmatrix import qemu
    calls = []

    def validate(name, *a):
        calls.append(name)
        if name == "stalls" or len(calls) == 1:
            raise qemu.InfrastructureFailure("stall", {"kind": "infrastructure", "reason": "an I/O stall", "kernel": name})
        return {"kernel": name, "measured": {}}
    monkeypatch.setattr(capacity, "validate_in_guest", validate)
    ok, lost = capacity.validate_in_guests(["debian-6.1", "stalls"], "/nonexistent")
    assert ok["infrastructure_failures"][0]["reason"] == "an I/O stall" and "skipped" not in ok
    assert "skipped" in lost and len(lost["infrastructure_failures"]) == 2 and calls.count("stalls") == 2


@pytest.mark.parametrize("argv,says", [
    (["--file", "/etc/hostname", "--kernels", "debian-6.12"], "--kernels: accepted with --validate only"),
    (["--file", "/etc/hostname", "--validate", "--kernels", "debian-9.9"], "--kernels debian-9.9: accepted:"),
    (["--file", "/etc/hostname", "--validate", "--kernels", "running"], "--kernels running: accepted:"),
    (["--file", "/etc/hostname", "--validate", "--kernels", ","], "accepted: names from kernels-config"),
    (["--file", "/etc/hostname", "--validate", "--kernels", "debian-6.1", "--zpool", "zbud,slab"], "--zpool zbud,slab"),
])
def test_guest_validation_bad_input_exits_2_before_sampling(argv, says, capsys, monkeypatch):
    # ./swapbench capacity runs through kmatrix, which checks --kernels before anything is sampled.
    from kmatrix.__main__ import main as kmatrix_main
    # Nothing may be sampled or booted: a sampler that fails loudly if it is reached.
    monkeypatch.setenv("SWAPBENCH_CAPACITY_BIN", "/nonexistent/swapbench-capacity")
    assert kmatrix_main(["capacity", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err, err
    if "--kernels debian-9.9" in says:
        assert "debian-6.1," in err and "debian-6.12" in err  # what would be accepted, named
    assert len(err.strip().splitlines()) == 1, err
