"""arm64 guests on fixture data (no downloads, no QEMU): definitions, the QEMU command, the MTE gate's
outcome as the host reads it, the front door's architecture question."""
import subprocess
import sys

import pytest

from kmatrix import boot, matrix, qemu
from kmatrix.defs import KernelError, load_defs


def test_the_arm64_definitions_say_arm64_and_never_16k_or_cloud():
    defs = load_defs()
    for name in ("debian-6.1-arm64", "debian-6.12-arm64"):
        d = defs[name]
        assert d.arch == "arm64" and d.machine == "aarch64"
        assert d.package.endswith("-arm64-unsigned") and {"-16k-", "-cloud-"} <= set(d.exclude)
        assert "virtio_blk" in d.modules
    assert defs["debian-6.12"].arch == "amd64" and defs["debian-6.12"].machine == "x86_64"


def test_an_unknown_arch_is_refused_naming_the_accepted(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text('[kernel.x]\nsource = "debian"\npackage = "linux-image-*"\narch = "mips"\n')
    with pytest.raises(KernelError, match="arch 'mips'; accepted: amd64, arm64"):
        load_defs(str(p))


def test_the_arm64_command_asks_for_mte_on_virt_under_tcg_with_the_pl011_console():
    emu = qemu.Emulator("arm64", "/cache/qemu-system-aarch64", {"QEMU_MODULE_DIR": "/x"}, "QEMU emulator version 10.0.2")
    cmd = qemu.command("tcg", "Image", "initrd", ["swap.img"], 1024, 1, qemu.append_for("arm64"), emu=emu)
    assert cmd[0] == "/cache/qemu-system-aarch64"
    i = cmd.index("-M")
    assert cmd[i:i + 6] == ["-M", "virt,mte=on", "-accel", "tcg", "-cpu", "max"]
    assert "console=ttyAMA0" in cmd[cmd.index("-append") + 1]
    assert "console=ttyS0" in qemu.append_for("amd64")
    with pytest.raises(KernelError, match="TCG only"):
        qemu.command("kvm", "Image", "initrd", [], 1024, 1, "", emu=emu)


def test_the_gate_outcome_is_read_from_the_guest_files(tmp_path):
    assert boot._mte_gate(str(tmp_path)) is None  # an x86 boot has no gate
    (tmp_path / "mte-gate-rc").write_text("1\n")
    (tmp_path / "mte-gate").write_text("mte-selftest: FAIL: 15201 of 16384 granules\n  page 0 granule 0\n")
    g = boot._mte_gate(str(tmp_path))
    assert g["rc"] == "1" and g["report"].startswith("mte-selftest: FAIL: 15201 of 16384")


def test_the_front_door_learns_which_architectures_a_matrix_needs():
    def arches(*args):
        return subprocess.run([sys.executable, "-m", "kmatrix", "arches", *args], capture_output=True, text=True,
                              check=True).stdout.split()
    assert arches() == ["amd64"]
    assert arches("--kernels", "debian-6.12-arm64,debian-6.1", "--no-count") == ["amd64", "arm64"]
    assert arches("--kernels", "no-such-kernel") == []  # left for the matrix to refuse by name


def test_candidates_come_from_one_apt_cache_call_and_a_missing_one_is_named(monkeypatch):
    from kmatrix import unpacked
    out = ("libpfm4:arm64:\n  Installed: (none)\n  Candidate: 4.13.0-1\n  Version table:\n"
           "libzstd1:arm64:\n  Installed: (none)\n  Candidate: 1.5.4+dfsg2-5\n"
           "nothing:arm64:\n  Installed: (none)\n  Candidate: (none)\n")
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, out, "")
    monkeypatch.setattr(unpacked, "run_tool", fake_run)
    assert unpacked.candidates(["libpfm4:arm64", "libzstd1:arm64"]) == {
        "libpfm4:arm64": "4.13.0-1", "libzstd1:arm64": "1.5.4+dfsg2-5", "nothing:arm64": "(none)"}
    assert len(calls) == 1
    with pytest.raises(KernelError, match=r"no candidate for nothing:arm64.*dpkg --add-architecture arm64"):
        unpacked.candidates(["libpfm4:arm64", "nothing:arm64"])


def test_absolute_links_in_an_unpacked_tree_point_into_the_tree(tmp_path):
    from kmatrix import unpacked
    import os
    (tmp_path / "lib/aarch64-linux-gnu").mkdir(parents=True)
    (tmp_path / "lib/aarch64-linux-gnu/libz.so.1.2.13").write_text("arm64")
    (tmp_path / "usr/lib/aarch64-linux-gnu").mkdir(parents=True)
    link = tmp_path / "usr/lib/aarch64-linux-gnu/libz.so"
    os.symlink("/lib/aarch64-linux-gnu/libz.so.1.2.13", link)
    os.symlink("libz.so", tmp_path / "usr/lib/aarch64-linux-gnu/libz.so.rel")  # relative: left alone
    unpacked.relative_links(str(tmp_path))
    assert os.readlink(link) == "../../../lib/aarch64-linux-gnu/libz.so.1.2.13"
    assert link.read_text() == "arm64"
    assert os.readlink(tmp_path / "usr/lib/aarch64-linux-gnu/libz.so.rel") == "libz.so"


def test_matrix_passes_thp_to_the_guest_suite_only_when_asked():
    import argparse
    from kmatrix import matrix
    p = argparse.ArgumentParser()
    matrix.add_arguments(p)
    plain = boot._run_args(matrix.MatrixConfig.from_args(p.parse_args(["--suite", "mte"])), 1)
    thp = boot._run_args(matrix.MatrixConfig.from_args(p.parse_args(["--suite", "mte", "--thp"])), 1)
    assert "--thp" not in plain.split() and thp.split().count("--thp") == 1


def test_pages_per_set_default_by_suite():
    # The MTE suites emulate every granule's tag under TCG: a smaller region keeps the two-kernel
    # arm64 matrix within its time goal; the race suite sizes its own region.
    assert matrix.default_pages("mte") == matrix.default_pages("mte-writeback") == 1024
    assert matrix.default_pages("quick") == matrix.default_pages("writeback") == 4096
    assert matrix.default_pages("race") is None
