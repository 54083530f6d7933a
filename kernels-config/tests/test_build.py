"""kmatrix/build.py on fixture data: the config fragment, patch checks and the hard-linked build tree
(a tiny fake kernel tree; no network, no make)."""
import os
import textwrap

import pytest

from kmatrix import build, guest_config, make_run
from kmatrix.build import PatchError
from kmatrix.check import load_requirements
from kmatrix.defs import REQUIREMENTS_TOML, KernelError, load_defs

from conftest import ZSWAP_C  # the fake tree's mm/zswap.c


def _patch(tmp_path, name, old, new, path="mm/zswap.c", at=5):
    """A unified diff changing line `at` of a file from old to new (3 lines of context)."""
    ctx_before = [f"line {i}" for i in range(at - 3, at)]
    ctx_after = [f"line {i}" for i in range(at + 1, at + 4)]
    body = "\n".join([f" {l}" for l in ctx_before] + [f"-{old}", f"+{new}"] + [f" {l}" for l in ctx_after])
    p = tmp_path / name
    p.write_text(f"--- a/{path}\n+++ b/{path}\n@@ -{at - 3},7 +{at - 3},7 @@\n{body}\n")
    return str(p)


@pytest.fixture
def src(fake_kernel_tree):
    return build.resolve_source(str(fake_kernel_tree))


# ------------------------------------------------------------------------------------------- fragment

def test_fragment_holds_every_requirement_built_in_and_the_count_trace_needs():
    want = guest_config.parse_fragment(guest_config.fragment(REQUIREMENTS_TOML, {}))
    for opt in load_requirements()["option"]:
        assert want[opt] == "y", opt  # modules are off: "m is enough" becomes =y
    for opt in ("KALLSYMS_ALL", "FUNCTION_GRAPH_TRACER", "DEBUG_FS", "VM_EVENT_COUNTERS", "DEBUG_KERNEL"):
        assert want[opt] == "y"
    assert want["MODULES"] == "n" and want["ZSWAP_DEFAULT_ON"] == "n"


def test_fragment_from_small_data_is_grouped_and_extra_comes_last(tmp_path):
    req = tmp_path / "req.toml"
    req.write_text(textwrap.dedent("""
        [option.ZSWAP]
        reason = "x"
        need = "y"
        [option.CRYPTO_LZ4]
        reason = "a module is enough"
        [benchmark.b]
        requires = ["ZSWAP"]
        [compressors]
        lz4 = "CRYPTO_LZ4"
    """))
    gc = {"group": {"swap": {"y": ["SWAP", "ZSWAP"], "n": ["ZSWAP_DEFAULT_ON"]}}}
    text = guest_config.fragment(str(req), {"CONFIG_LOCALVERSION": "-x", "NR_CPUS": "4"}, guest_config=gc)
    assert text == textwrap.dedent("""\
        # swap
        CONFIG_SWAP=y
        CONFIG_ZSWAP=y
        # CONFIG_ZSWAP_DEFAULT_ON is not set
        # requirements
        CONFIG_CRYPTO_LZ4=y
        # extra
        CONFIG_LOCALVERSION="-x"
        CONFIG_NR_CPUS=4
        """)
    assert guest_config.parse_fragment(text) == {"SWAP": "y", "ZSWAP": "y", "ZSWAP_DEFAULT_ON": "n", "CRYPTO_LZ4": "y",
                                          "LOCALVERSION": "-x", "NR_CPUS": "4"}


def test_fragment_refuses_an_option_asked_on_and_off(tmp_path):
    req = tmp_path / "req.toml"
    req.write_text('[option.ZSWAP]\nreason = "x"\n[benchmark.b]\nrequires = ["ZSWAP"]\n[compressors]\n')
    with pytest.raises(KernelError, match="CONFIG_ZSWAP: swap asks n, requirements asks y"):
        guest_config.fragment(str(req), {}, guest_config={"group": {"swap": {"n": ["ZSWAP"]}}})
    with pytest.raises(KernelError, match="CONFIG_ZSWAP: requirements asks y, extra asks n"):
        guest_config.fragment(str(req), {"ZSWAP": "n"}, guest_config={})
    # extra may turn off what a group turned on
    text = guest_config.fragment(str(req), {"PRINTK_TIME": "n"}, guest_config={"group": {"b": {"y": ["PRINTK_TIME"]}}})
    assert "CONFIG_PRINTK_TIME=y" not in text and "# CONFIG_PRINTK_TIME is not set" in text


def test_config_mismatches_names_what_did_not_stick_and_what_this_kernel_lacks():
    cfg = {"SWAP": "y", "ZSWAP": "y", "MODULES": "y"}
    want = {"SWAP": "y", "ZSWAP": "y", "MEMCG": "y", "MODULES": "n", "ZSWAP_SHRINKER_DEFAULT_ON": "n"}
    bad, absent = guest_config.config_mismatches(cfg, want, declared={"SWAP", "ZSWAP", "MEMCG", "MODULES"})
    assert bad == [("MEMCG", "y", "not set"), ("MODULES", "n", "y")]
    assert absent == ["ZSWAP_SHRINKER_DEFAULT_ON"]


def test_verify_config_refuses_naming_the_option_and_the_benchmark(tmp_path):
    cfg = tmp_path / ".config"
    cfg.write_text("CONFIG_SWAP=y\n")
    with pytest.raises(KernelError) as e:
        guest_config.verify_config(str(cfg), {"SWAP": "y", "ZSWAP": "y"}, {"SWAP", "ZSWAP"})
    assert "CONFIG_ZSWAP: asked y, got not set" in str(e.value)
    assert "swapin-zswap: CONFIG_ZSWAP not set" in str(e.value)


def test_kconfig_symbols_reads_config_and_menuconfig(src):
    assert guest_config.kconfig_symbols(src.tree) == {"SWAP", "ZSWAP"}


def test_progress_reads_makes_quiet_lines():
    assert make_run.what("  CC      mm/zswap.o\n") == "CC mm/zswap.o"
    assert make_run.what("  LD      vmlinux.o") == "LD vmlinux.o"
    assert make_run.what("mm/zswap.c:12: warning: unused") is None


# --------------------------------------------------------------------------------------------- sources

def test_the_shipped_sources_are_defined():
    defs = load_defs()
    assert defs["debian-6.12-source"].source == "debian-source"
    assert defs["debian-6.12-source"].package == "linux-source-6.12"
    assert defs["debian-6.1-source"].package == "linux-source-6.1"


def test_the_61_source_builds_zbud_as_zswaps_pool_so_that_writeback_exists():
    # 6.1's zsmalloc cannot evict: without zbud the recheck's code never runs in a 6.1 guest.
    opts = dict((o, v) for g, o, v in guest_config.fragment_options(extra=load_defs()["debian-6.1-source"].options))
    assert opts["ZBUD"] == "y" and opts["ZSWAP_ZPOOL_DEFAULT_ZBUD"] == "y"
    assert opts["ZSWAP_ZPOOL_DEFAULT_ZSMALLOC"] == "n"
    assert "ZBUD" not in dict((o, v) for g, o, v in guest_config.fragment_options())


def test_build_kernel_merges_the_sources_options_under_the_callers(tmp_path, src, monkeypatch):
    seen = {}
    monkeypatch.setattr(build, "check_patches", lambda s, p: None)
    monkeypatch.setattr(build, "_build_locked", lambda *a: seen.setdefault("extra", a[6]))
    s = build.Source(src.name, src.tree, src.key, options={"ZBUD": "y", "Z3FOLD": "y"})
    build.build_kernel(s, [], lambda m: None, cache=str(tmp_path), extra={"Z3FOLD": "n"})
    assert seen["extra"] == {"ZBUD": "y", "Z3FOLD": "n"}


def test_a_source_must_be_a_clean_kernel_tree_or_a_source_definition(tmp_path, src):
    with pytest.raises(build.SourceError, match="not a kernel tree"):
        build.resolve_source(str(tmp_path))
    open(os.path.join(src.tree, ".config"), "w").close()
    with pytest.raises(KernelError, match="configured in place.*make -C .* mrproper"):
        build.resolve_source(src.tree)
    with pytest.raises(KernelError, match="is a debian kernel, not a source"):
        build.resolve_source("debian-6.12")
    with pytest.raises(build.SourceError, match="unknown source 'no-such-kernel'.*debian-6.12-source"):
        build.resolve_source("no-such-kernel")
    with pytest.raises(build.SourceError, match="not a kernel tree"):
        build.check_source(str(tmp_path))  # bad input (exit 2 in ab), found without fetching anything


def test_a_source_definition_is_not_a_built_kernel():
    from kmatrix.defs import files_for
    with pytest.raises(KernelError, match="kernel source .*not a built kernel"):
        files_for(load_defs()["debian-6.12-source"])


# --------------------------------------------------------------------------------------------- patches

def test_patches_that_apply_in_order_pass_and_leave_the_tree_alone(tmp_path, src):
    a = _patch(tmp_path, "a.patch", "line 5", "line 5 changed by a")
    b = _patch(tmp_path, "b.patch", "line 5 changed by a", "line 5 changed by b")  # needs a first
    build.check_patches(src, [a, b], scratch_parent=str(tmp_path))
    assert open(os.path.join(src.tree, "mm", "zswap.c")).read() == ZSWAP_C
    with pytest.raises(PatchError, match=r"patch .*b\.patch does not apply: .*mm/zswap\.c.*Hunk #1 FAILED"):
        build.check_patches(src, [b], scratch_parent=str(tmp_path))
    with pytest.raises(PatchError, match=r"a\.patch does not apply \(after a\.patch\): .*Reversed"):
        build.check_patches(src, [a, a, b], scratch_parent=str(tmp_path))  # a twice: the second is reversed


def test_a_patch_to_a_missing_file_or_no_file_is_named(tmp_path, src):
    c = _patch(tmp_path, "c.patch", "line 5", "x", path="mm/zsmalloc.c")
    with pytest.raises(PatchError, match=r"c\.patch does not apply"):
        build.check_patches(src, [c], scratch_parent=str(tmp_path))
    with pytest.raises(PatchError, match="no such file"):
        build.check_patches(src, [str(tmp_path / "nope.patch")])


def test_patchset_key_follows_contents_and_order(tmp_path):
    a = _patch(tmp_path, "a.patch", "line 5", "A")
    b = _patch(tmp_path, "b.patch", "line 9", "B", at=9)
    a2 = tmp_path / "renamed.patch"
    a2.write_bytes(open(a, "rb").read())
    assert build.patchset_key([]) == "pristine"
    assert build.patchset_key([a]) == build.patchset_key([str(a2)])
    assert build.patchset_key([a, b]) != build.patchset_key([b, a])
    assert len(build.patchset_key([a])) == 12


def test_the_build_tree_is_hard_linked_and_patching_leaves_the_pristine_tree_pristine(tmp_path, src):
    a = _patch(tmp_path, "a.patch", "line 5", "line 5 changed")
    tree = str(tmp_path / "build" / "tree")
    os.makedirs(os.path.dirname(tree))
    assert build.prepare_tree(src, [a], tree) is True
    p_zswap, b_zswap = os.path.join(src.tree, "mm", "zswap.c"), os.path.join(tree, "mm", "zswap.c")
    assert open(p_zswap).read() == ZSWAP_C
    assert "line 5 changed" in open(b_zswap).read()
    assert os.stat(p_zswap).st_ino != os.stat(b_zswap).st_ino
    # the files no patch touches are the pristine ones (hard links: no copy, no new mtime)
    assert os.stat(os.path.join(src.tree, "mm", "swapfile.c")).st_ino == \
        os.stat(os.path.join(tree, "mm", "swapfile.c")).st_ino
    assert build.prepare_tree(src, [a], tree) is False  # reused


def test_a_git_checkout_keys_on_its_head(tmp_path, src):
    import subprocess
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "init", "-q", src.tree], check=True)
    subprocess.run(["git", "-C", src.tree, "add", "."], check=True)
    subprocess.run(["git", "-C", src.tree, "commit", "-qm", "x"], check=True, env=env)
    s = build.resolve_source(src.tree)
    assert s.key.startswith(src.key + "-") and len(s.version) == 40
    tree = str(tmp_path / "t")
    build.prepare_tree(s, [], tree)
    assert not os.path.exists(os.path.join(tree, ".git"))  # setlocalversion must not ask git about a copy


# ------------------------------------------------------------------------------------------------ make

def test_a_failed_make_names_its_log_and_shows_its_tail_not_its_flood(tmp_path, monkeypatch):
    mk = tmp_path / "Makefile"
    mk.write_text("all:\n\t@for i in $$(seq 1 100); do echo \"  CC      f$$i.o\"; done\n\t@echo 'f100.c:1: error: boom'; false\n")
    said = []
    monkeypatch.setattr(make_run, "PROGRESS_EVERY_S", 0.01)
    log = str(tmp_path / "build.log")
    with pytest.raises(KernelError) as e:
        make_run.make(["-C", str(tmp_path)], log, said.append, "k build", dict(os.environ))
    msg = str(e.value)
    assert f"full log: {log}" in msg and "f100.c:1: error: boom" in msg
    assert "CC      f70.o" in msg and "CC      f50.o" not in msg  # the last 40 lines only
    assert "CC      f1.o" in open(log).read()
    assert all("k build: " in s for s in said)


def test_each_architecture_gets_its_own_groups_and_the_common_ones():
    x86 = dict((o, v) for g, o, v in guest_config.fragment_options())
    arm = dict((o, v) for g, o, v in guest_config.fragment_options(arch="arm64"))
    assert x86["SERIAL_8250_CONSOLE"] == "y" and x86["ACPI"] == "y" and "ARM64_MTE" not in x86
    assert arm["SERIAL_AMBA_PL011_CONSOLE"] == "y" and arm["ARM64_MTE"] == "y" and arm["PCI_HOST_GENERIC"] == "y"
    assert "SERIAL_8250" not in arm and "KERNEL_GZIP" not in arm
    for common in ("ZSWAP", "VIRTIO_BLK", "KALLSYMS_ALL", "ZRAM", "TTY"):
        assert x86[common] == arm[common] == "y", common


def test_an_unknown_architecture_is_refused_before_anything_is_built(tmp_path, src):
    with pytest.raises(KernelError, match="arch 'riscv64': accepted: amd64, arm64"):
        build.build_kernel(src, [], lambda m: None, cache=str(tmp_path), arch="riscv64")


def test_a_debian_sources_patch_that_does_not_apply_is_found_before_the_full_unpack(tmp_path, fake_kernel_tree,
                                                                                    monkeypatch):
    """Issue 19, item 9: only the files the patches touch come out of the tarball before the check;
    the 1.7 GB unpack runs only once every patch set applies (here a fake tarball, no network)."""
    import shutil
    import subprocess
    top = tmp_path / "pkg"
    shutil.copytree(fake_kernel_tree, top / "linux-source-6.12")
    tarball = tmp_path / "linux-source-6.12.tar.xz"
    subprocess.run(["tar", "-cJf", str(tarball), "-C", str(top), "linux-source-6.12"], check=True)
    monkeypatch.setattr(build, "resolve_package", lambda d: "linux-source-6.12")
    monkeypatch.setattr(build, "_candidate_version", lambda pkg: "6.12.117-1")
    monkeypatch.setattr(build, "_download_tarball",
                        lambda pkg, ver, dest: shutil.copy(tarball, os.path.join(dest, tarball.name)))
    unpacks, real_run = [], build._run

    def spy(cmd, what, **kw):
        if cmd[:2] == ["tar", "-xf"]:
            unpacks.append(cmd)
        return real_run(cmd, what, **kw)
    monkeypatch.setattr(build, "_run", spy)
    good = _patch(tmp_path, "good.patch", "line 5", "five")
    bad = _patch(tmp_path, "bad.patch", "line 5 as it never was", "x")
    cache = tmp_path / "cache"
    with pytest.raises(PatchError, match=r"bad\.patch does not apply \(after good\.patch\): .*mm/zswap\.c.*Hunk #1 FAILED"):
        build.resolve_source("debian-6.12-source", cache=str(cache), patch_sets=([], [good, bad]))
    assert unpacks == []  # the full unpack never started
    # the tarball stays for the next attempt; no tree was unpacked
    assert os.listdir(cache / "src") == ["linux-source-6.12_6.12.117-1.download"]
    monkeypatch.setattr(build, "_download_tarball", lambda *a: pytest.fail("downloaded again"))
    src = build.resolve_source("debian-6.12-source", cache=str(cache), patch_sets=([good], []))
    assert len(unpacks) == 1 and open(os.path.join(src.tree, "mm", "zswap.c")).read() == ZSWAP_C
    assert os.listdir(cache / "src") == ["linux-source-6.12_6.12.117-1"]
