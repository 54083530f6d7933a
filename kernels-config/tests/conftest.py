"""Fixtures shared by the kmatrix tests."""
import pytest

ZSWAP_C = "".join(f"line {i}\n" for i in range(1, 21))


@pytest.fixture
def fake_kernel_tree(tmp_path):
    """A tiny tree that passes for a clean kernel source: what resolve_source and the patch checks look at."""
    tree = tmp_path / "linux"
    (tree / "mm").mkdir(parents=True)
    (tree / "scripts" / "kconfig").mkdir(parents=True)
    (tree / "Makefile").write_text("# fake\n")
    (tree / "Kconfig").write_text("config SWAP\n\tbool\nmenuconfig ZSWAP\n\tbool\n")
    (tree / "scripts" / "kconfig" / "merge_config.sh").write_text("")
    (tree / "mm" / "zswap.c").write_text(ZSWAP_C)
    (tree / "mm" / "swapfile.c").write_text("swapfile\n")
    return tree
