"""kmatrix/capacity.py's pure parts: the guest's command line, the chain size from a kernel config,
and the boot archive carrying the pages (unpacked with cpio as the kernel would)."""
import os
import subprocess

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
    raw = tmp_path / "pages.raw"
    data = bytes(range(256)) * 32 + os.urandom(4096)
    raw.write_bytes(data)
    out = tmp_path / "pages.cpio"
    capacity._pages_archive(str(raw), str(out))
    x = tmp_path / "x"
    x.mkdir()
    with open(out, "rb") as f:
        subprocess.run(["cpio", "-i", "-d", "--quiet"], cwd=x, stdin=f, check=True)
    assert (x / capacity.GUEST_PAGES_PATH.lstrip("/")).read_bytes() == data
    # Uncompressed newc: the kernel's initramfs unpacker tells it from the gzip'd base by this magic.
    assert out.read_bytes()[:6] == b"070701"


def test_kernels_that_cannot_validate_are_skipped_with_why(tmp_path, monkeypatch):
    # No boot happens for any of these: each is refused before its files are fetched.
    monkeypatch.setenv("SWAPBENCH_KERNEL_CACHE", str(tmp_path / "cache"))
    raw = tmp_path / "pages.raw"
    raw.write_bytes(bytes(4096))
    out = capacity.validate_in_guests(["running", "nosuch"], str(raw))
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
