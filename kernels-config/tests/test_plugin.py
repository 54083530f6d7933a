"""kmatrix/plugin.py without network or QEMU: version names, the deb-src entries made from the
host's apt sources, the Debian patches applied to the header, the sidecar check, and that
CMakeLists.txt names the plugin as plugin_file_name() expects."""
import io
import os
import subprocess
import tarfile

import pytest

from kmatrix import plugin
from kmatrix.plugin import PluginError

LINE = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"


def test_binnmu_suffix_is_not_in_the_source_version():
    assert plugin.source_version("1:7.2+dfsg-7+deb12u18+b3") == "1:7.2+dfsg-7+deb12u18"
    assert plugin.source_version("1:7.2+dfsg-7+deb12u18") == "1:7.2+dfsg-7+deb12u18"
    assert plugin.source_version("1:10.0.2+ds-1~bpo12+1") == "1:10.0.2+ds-1~bpo12+1"   # +1 is no binNMU


def test_plugin_file_name_carries_the_debian_version():
    assert plugin.plugin_file_name(LINE) == "libswapbench-exact-1_7.2+dfsg-7+deb12u18+b3.so"
    assert plugin.plugin_file_name("QEMU emulator version 9.1.0") == "libswapbench-exact-9.1.0.so"
    with pytest.raises(PluginError):
        plugin.plugin_file_name("something else")


@pytest.mark.parametrize("line", [LINE, "QEMU emulator version 9.1.0 (v9.1.0-dirty)"])
def test_cmake_names_the_plugin_as_python_expects(tmp_path, line):
    inc = tmp_path / "inc" / "qemu"
    inc.mkdir(parents=True)
    (inc / "qemu-plugin.h").write_text("/* configure only */\n")
    build = tmp_path / "build"
    r = subprocess.run(["cmake", "-S", plugin.PLUGIN_SRC, "-B", str(build), f"-DQEMU_PLUGIN_INCLUDE={inc.parent}",
                        f"-DQEMU_VERSION_LINE={line}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sidecar = build / (plugin.plugin_file_name(line) + ".qemu-version")
    assert sidecar.read_text() == line + "\n"


def test_cmake_refuses_a_missing_header(tmp_path):
    r = subprocess.run(["cmake", "-S", plugin.PLUGIN_SRC, "-B", str(tmp_path / "b"),
                        f"-DQEMU_PLUGIN_INCLUDE={tmp_path}", f"-DQEMU_VERSION_LINE={LINE}"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "holds no qemu/qemu-plugin.h" in r.stderr


def test_deb_src_entries_for_the_hosts_suites(tmp_path):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://example.org/off\nSuites: x\nComponents: main\nEnabled: no\n\n"
        "Types: deb-src\nURIs: http://example.org/src\nSuites: y\nComponents: main\n")
    (parts / "other.list").write_text("deb [arch=amd64 signed-by=/k.gpg] http://example.org/deb stable main contrib\n"
                                      "# deb http://example.org/commented stable main\n")
    (parts / "ignored.list.disabled").write_text("deb http://example.org/never stable main\n")
    (tmp_path / "sources.list").write_text("deb http://deb.debian.org/debian bookworm main\n")  # a duplicate
    entries = plugin.host_deb_entries([str(tmp_path / "sources.list"), str(parts)])
    assert [(u, s) for u, s, _c, _k in entries] == [
        ("http://deb.debian.org/debian", "bookworm"), ("http://deb.debian.org/debian", "bookworm-updates"),
        ("http://deb.debian.org/debian-security", "bookworm-security"), ("http://example.org/deb", "stable")]
    lines = plugin.deb_src_lines(entries)
    assert lines[0] == ("deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                        "http://deb.debian.org/debian bookworm main")
    assert lines[3] == "deb-src [signed-by=/k.gpg] http://example.org/deb stable main contrib"


def test_no_deb_entry_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(plugin, "host_deb_entries", lambda: [])
    with pytest.raises(PluginError, match=r"^no deb-src reachable for qemu 1:7.2\+dfsg-7\+deb12u18\+b3: .*no deb entry"):
        plugin._ensure_header_for(str(tmp_path), "1:7.2+dfsg-7+deb12u18+b3", "qemu", "1:7.2+dfsg-7+deb12u18")


HEADER_V1 = "line 1\n#define QEMU_PLUGIN_VERSION 1\nline 3\n"
PATCH = """Description: two files, one of them the header
--- a/include/qemu/qemu-plugin.h
+++ b/include/qemu/qemu-plugin.h
@@ -1,3 +1,3 @@
 line 1
-#define QEMU_PLUGIN_VERSION 1
+#define QEMU_PLUGIN_VERSION 1 /* patched */
 line 3
--- a/other/file.c
+++ b/other/file.c
@@ -1 +1 @@
-x
+y
"""


def test_patch_sections_keep_only_the_header():
    s = plugin.patch_sections(PATCH)
    assert "qemu-plugin.h" in s and "other/file.c" not in s and "+y" not in s
    assert plugin.patch_sections("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n") == ""


def _tar(path, files):
    with tarfile.open(path, "w:xz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_header_from_the_orig_tarball_with_the_debian_patches_that_touch_it(tmp_path):
    _tar(tmp_path / "qemu_7.2+dfsg.orig.tar.xz", {"qemu-7.2.0/include/qemu/qemu-plugin.h": HEADER_V1,
                                                  "qemu-7.2.0/other/file.c": "x\n"})
    _tar(tmp_path / "qemu_7.2+dfsg-7.debian.tar.xz", {
        "debian/patches/series": "unrelated.patch\n# comment\nboth.patch\n",
        "debian/patches/unrelated.patch": "--- a/other/file.c\n+++ b/other/file.c\n@@ -1 +1 @@\n-x\n+z\n",
        "debian/patches/both.patch": PATCH})
    header, applied = plugin._extract_header(str(tmp_path))
    assert applied == ["both.patch"]
    assert header.decode() == HEADER_V1.replace("VERSION 1\n", "VERSION 1 /* patched */\n")


def test_a_patch_that_does_not_apply_is_an_error(tmp_path):
    _tar(tmp_path / "q.orig.tar.xz", {"q/include/qemu/qemu-plugin.h": "something else\n"})
    _tar(tmp_path / "q.debian.tar.xz", {"debian/patches/series": "both.patch\n", "debian/patches/both.patch": PATCH})
    with pytest.raises(PluginError, match="both.patch touches include/qemu/qemu-plugin.h and does not apply"):
        plugin._extract_header(str(tmp_path))


def _fake_qemu(tmp_path, line):
    q = tmp_path / "qemu-fake"
    q.write_text(f"#!/bin/sh\necho '{line}'\necho 'Copyright (c) 2003-2022 Fabrice Bellard'\n")
    q.chmod(0o755)
    return str(q)


def test_a_plugin_is_loaded_only_into_the_qemu_it_was_built_for(tmp_path):
    so = tmp_path / "libswapbench-exact-x.so"
    so.write_bytes(b"")
    with pytest.raises(PluginError, match="no version sidecar"):
        plugin.check_plugin_matches(str(so), _fake_qemu(tmp_path, LINE))
    (tmp_path / "libswapbench-exact-x.so.qemu-version").write_text(LINE + "\n")
    assert plugin.check_plugin_matches(str(so), _fake_qemu(tmp_path, LINE)) is None
    other = "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)"
    with pytest.raises(PluginError) as e:
        plugin.check_plugin_matches(str(so), _fake_qemu(tmp_path, other))
    assert LINE in str(e.value) and other in str(e.value)


def test_the_plugin_source_is_where_the_build_looks():
    for f in ("CMakeLists.txt", "exactcount.c", "exactcount_core.h"):
        assert os.path.exists(os.path.join(plugin.PLUGIN_SRC, f)), f


BPO = "1:10.0.2+ds-2+deb13u1~bpo12+1"
BPO_LINE = f"QEMU emulator version 10.0.2 (Debian {BPO})"


def _unpacked(tmp_path, recorded=BPO, line=BPO_LINE):
    """A tree as kmatrix/unpacked.py unpack() leaves it: <dest>/versions and <dest>/root/usr/bin/<binary>."""
    dest = tmp_path / "qemu-x"
    (dest / "root/usr/bin").mkdir(parents=True)
    (dest / "versions").write_text(f"qemu-system-arm:amd64 {recorded}\n")
    q = dest / "root/usr/bin/qemu-system-aarch64"
    q.write_text(f"#!/bin/sh\necho '{line}'\n")
    q.chmod(0o755)
    return str(q)


def test_an_unpacked_backports_qemu_is_named_by_its_unpack_record_and_fetched_from_backports(tmp_path):
    line, version, src, src_version, srcs = plugin.qemu_identity(_unpacked(tmp_path))
    assert (line, version, src, src_version) == (BPO_LINE, BPO, "qemu", BPO)
    assert srcs == ["deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                    "http://deb.debian.org/debian bookworm-backports main"]
    assert plugin.plugin_file_name(line) == "libswapbench-exact-1_10.0.2+ds-2+deb13u1_bpo12+1.so"


def test_an_unpacked_qemu_that_disagrees_with_its_record_is_refused(tmp_path):
    with pytest.raises(PluginError, match="its unpack recorded"):
        plugin.qemu_identity(_unpacked(tmp_path, recorded="1:10.0.3+ds-1~bpo12+1"))


def test_a_binary_outside_an_unpack_is_not_taken_for_one(tmp_path):
    assert plugin.unpacked_qemu(_fake_qemu(tmp_path, LINE)) is None


def test_the_plugin_configures_against_a_header_that_includes_glib(tmp_path):
    inc = tmp_path / "inc" / "qemu"
    inc.mkdir(parents=True)
    (inc / "qemu-plugin.h").write_text("#include <glib.h>\n")
    r = subprocess.run(["cmake", "-S", plugin.PLUGIN_SRC, "-B", str(tmp_path / "b"), f"-DQEMU_PLUGIN_INCLUDE={inc.parent}",
                        f"-DQEMU_VERSION_LINE={BPO_LINE}"], capture_output=True, text=True)
    # libglib2.0-dev is what the front door installs for guests (their QEMU 10.0 header); without it the
    # configure step must name glib-2.0, not fail later on a missing header
    assert (r.returncode == 0) == os.path.exists("/usr/include/glib-2.0/glib.h"), r.stderr
    if r.returncode:
        assert "glib-2.0" in r.stderr
