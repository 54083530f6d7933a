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
