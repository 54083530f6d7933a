"""The emulator's gates as the host reads them (fixture result folders, no QEMU), and the QEMU each
architecture's guests get: bookworm-backports' unpacked one, an older one refused by version."""
import os

import pytest

from kmatrix import gates, qemu, unpacked
from kmatrix.defs import KernelError

Q72 = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
FAIL = ("cx16-selftest: FAIL: flags after cmpxchg16b 0x40000243: CF set (expected clear), bit 30 set (reserved, "
        "always 0); the flags came from the preceding ADD's operand")


def _results(tmp_path, rc, report):
    (tmp_path / "cx16-gate-rc").write_text(f"{rc}\n")
    (tmp_path / "cx16-gate").write_text(report + "\n")
    return str(tmp_path)


def test_a_failed_gate_is_an_emulator_fault_naming_the_bug_the_version_and_the_fix(tmp_path):
    with pytest.raises(gates.EmulatorFault) as e:
        gates.check_cx16(_results(tmp_path, 1, FAIL), "[boot 1/1 debian-6.12 tcg]", "amd64", Q72)
    msg = str(e.value)
    assert "emulator fault, not a kernel result: " + Q72 + " fails the cmpxchg16b flags gate" in msg
    assert "0x40000243: CF set" in msg and "QEMU's TCG cmpxchg16b flags bug" in msg
    assert "fix: QEMU >= 8.0" in msg and "10.0.2" in msg


def test_a_passed_or_inapplicable_gate_is_recorded_and_an_x86_boot_without_one_refused(tmp_path):
    ok = gates.check_cx16(_results(tmp_path, 0, "cx16-selftest: pass: flags after cmpxchg16b 0x242"), "t", "amd64", "v")
    assert ok == {"passed": True, "skipped": False, "report": "cx16-selftest: pass: flags after cmpxchg16b 0x242"}
    assert gates.check_cx16(_results(tmp_path, 77, "cx16-selftest: skip: no cmpxchg16b"), "t", "amd64", "v")["skipped"]
    assert gates.check_cx16(str(tmp_path / "nothing"), "t", "arm64", "v") is None  # arm64 has the MTE gate
    with pytest.raises(gates.EmulatorFault, match="ran no cmpxchg16b flags gate"):
        gates.check_cx16(str(tmp_path / "nothing"), "t", "amd64", Q72)


def _unpacked_qemu(cache, arch, binary, line):
    dest = os.path.join(cache, arch, "qemu-x")
    os.makedirs(os.path.join(dest, "root/usr/bin"))
    open(os.path.join(dest, ".complete"), "w").close()
    q = os.path.join(dest, "root/usr/bin", binary)
    with open(q, "w") as f:
        f.write(f"#!/bin/sh\necho '{line}'\n")
    os.chmod(q, 0o755)
    return q


def test_x86_guests_get_the_unpacked_qemu_and_one_before_8_0_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("SWAPBENCH_QEMU_X86_64", raising=False)
    q = _unpacked_qemu(str(tmp_path), "amd64", "qemu-system-x86_64", "QEMU emulator version 10.0.2 (Debian 1:10.0.2)")
    got = unpacked.ensure_qemu("amd64", str(tmp_path))
    assert got.binary == q and got.version == (10, 0)
    # its firmware folders point back into the unpacked tree (the pc machine loads bios-256k.bin)
    assert os.path.realpath(os.path.join(os.path.dirname(q), "qemu-bundle/usr/share/seabios")) == \
        os.path.realpath(os.path.join(os.path.dirname(q), "../share/seabios"))
    with open(q, "w") as f:
        f.write(f"#!/bin/sh\necho '{Q72}'\n")
    with pytest.raises(KernelError, match=r"version 7\.2\.22.*before 8\.0 computes the flags of cmpxchg16b"):
        unpacked.ensure_qemu("amd64", str(tmp_path))


def test_the_qemu_command_defaults_to_the_x86_guests_emulator(monkeypatch):
    emu = qemu.Emulator("amd64", "/cache/amd64/qemu-x/root/usr/bin/qemu-system-x86_64", {}, "QEMU emulator version 10.0.2")
    monkeypatch.setitem(qemu._emulators, "amd64", emu)
    cmd = qemu.command("tcg", "bzImage", "initrd", [], 512, 1, qemu.APPEND)
    assert cmd[0] == emu.binary and cmd[cmd.index("-cpu") + 1] == "max"
    kvm = qemu.command("kvm", "bzImage", "initrd", [], 512, 1, qemu.APPEND)
    assert kvm[kvm.index("-accel"):kvm.index("-accel") + 4] == ["-accel", "kvm", "-cpu", "host"]
    assert qemu.qemu_version() == "QEMU emulator version 10.0.2"
