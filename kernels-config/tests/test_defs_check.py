"""Kernel definitions and the config checker, on fixture data (no downloads, no QEMU)."""
import os

import pytest

from kmatrix.check import evaluate, load_requirements
from kmatrix.defs import KernelError, load_defs, read_config

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


def test_the_shipped_definitions_load_and_name_the_two_debian_kernels():
    defs = load_defs()
    assert {"debian-6.1", "debian-6.12", "running"} <= set(defs)
    for name in ("debian-6.1", "debian-6.12"):
        d = defs[name]
        assert d.source == "debian" and "-cloud-" in d.exclude and "virtio_blk" in d.modules


def test_a_bad_definition_is_refused_with_what_is_accepted(tmp_path):
    p = tmp_path / "k.toml"
    p.write_text('[kernel.x]\nsource = "ubuntu"\n')
    with pytest.raises(KernelError, match="source 'ubuntu'; accepted: debian, debian-suite, debian-source, running, custom"):
        load_defs(str(p))
    p.write_text('[kernel.x]\nsource = "debian"\npackage = "linux-image-*"\nflavour = "amd64"\n')
    with pytest.raises(KernelError, match=r"unknown keys \['flavour'\]"):
        load_defs(str(p))


def test_config_check_on_a_full_config():
    cfg = read_config(os.path.join(FIX, "config-full"))
    rows, comps = evaluate(cfg, load_requirements())
    assert all(ok for _, ok, _ in rows), [r for r in rows if not r[1]]
    assert comps == {"lzo": True, "lz4": True, "lz4hc": True, "zstd": True, "deflate": True}


def test_config_check_says_why_a_benchmark_cannot_run():
    # a cloud-style config: no zswap, memcg as a module is not enough, no function graph tracer
    cfg = read_config(os.path.join(FIX, "config-cloud"))
    rows = {b: (ok, why) for b, ok, why in evaluate(cfg, load_requirements())[0]}
    ok, why = rows["swapin-zswap"]
    assert not ok and "CONFIG_ZSWAP not set, needs built in (=y)" in why
    ok, why = rows["ftrace-attribution"]
    assert not ok and "CONFIG_FUNCTION_GRAPH_TRACER" in why
    assert rows["swapout-disk"][0]


def test_config_gz_is_read(tmp_path):
    import gzip
    p = tmp_path / "config.gz"
    with gzip.open(p, "wt") as f:
        f.write("CONFIG_ZSWAP=y\n# CONFIG_ZSTD is not set\nCONFIG_LOCALVERSION=\"-x\"\n")
    assert read_config(str(p)) == {"ZSWAP": "y", "LOCALVERSION": "-x"}
