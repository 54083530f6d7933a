"""The count pass's pure parts: function ranges from /proc/kallsyms, the plugin's report lines, and
the pairing of reports with the sets' repetitions (fixture data, no QEMU)."""
import json

import pytest

from kmatrix import count
from kmatrix.defs import KernelError

KALLSYMS = """\
ffffffff81000000 T _stext
ffffffff81234500 T do_swap_page
ffffffff81234500 t do_swap_page_alias
ffffffff81234a40 t swap_readpage
ffffffff81234a40 d some_data_here
ffffffff81234b00 T zswap_load
ffffffff81234c10 t dup_static
ffffffff81235000 t dup_static
ffffffff81236000 T _etext
ffffffffc0001000 t lzo1x_decompress_safe\t[lzo_decompress]
ffffffffc0001400 t other_module_fn\t[lzo_decompress]
"""


def test_ranges_end_at_the_next_higher_symbol_and_aliases_share_them():
    r, dup = count.parse_kallsyms(KALLSYMS, ["do_swap_page", "do_swap_page_alias", "swap_readpage", "zswap_load",
                                             "lzo1x_decompress_safe", "missing_fn"])
    assert r["do_swap_page"] == (0xffffffff81234500, 0xffffffff81234a40)
    assert r["do_swap_page_alias"] == r["do_swap_page"]
    assert r["swap_readpage"] == (0xffffffff81234a40, 0xffffffff81234b00)
    assert r["zswap_load"] == (0xffffffff81234b00, 0xffffffff81234c10)
    assert r["lzo1x_decompress_safe"] == (0xffffffffc0001000, 0xffffffffc0001400), "module symbols count too"
    assert "missing_fn" not in r and dup == []


def test_a_name_defined_twice_is_refused_not_guessed():
    r, dup = count.parse_kallsyms(KALLSYMS, ["dup_static", "zswap_load"])
    assert "dup_static" not in r and dup == ["dup_static"]
    assert "zswap_load" in r


def test_only_text_symbols_count_and_unsorted_input_works():
    lines = KALLSYMS.splitlines()
    r, _ = count.parse_kallsyms("\n".join(reversed(lines)), ["swap_readpage", "some_data_here"])
    assert "some_data_here" not in r
    assert r["swap_readpage"][1] == 0xffffffff81234b00


def test_hidden_addresses_are_an_error_naming_kptr_restrict():
    with pytest.raises(KernelError, match="kptr_restrict"):
        count.parse_kallsyms("0000000000000000 T do_swap_page\n0000000000000000 T x\n", ["do_swap_page"])


def _report(n, ops, kmed, umed, funcs):
    return {"report": n, "ops": ops, "kernel": {"median": kmed, "min": kmed, "mean": kmed, "max": kmed, "total": kmed * ops},
            "user": {"median": umed, "min": umed, "mean": umed, "max": umed, "total": umed * ops},
            "functions": funcs, "unmatched": 0}


def test_reports_pair_with_repetitions_by_boot_and_number(tmp_path):
    p = tmp_path / "plugin.jsonl"
    lines = [_report(0, 1024, 17713, 40, {"do_swap_page": {"instructions": 1024 * 247, "calls": 1024}}),
             _report(1, 1024, 6000, 40, {"do_swap_page": {"instructions": 0, "calls": 0}}),
             {"end": True, "reports": 2}]
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    reports, ended = count.read_reports(str(p))
    assert ended and sorted(reports) == [0, 1]
    keyed = {(7, k): v for k, v in reports.items()}
    entries = [{"name": "swapin/zswap/lzo/ratio2/random", "swapbench": {"count_report": 0, "boot": 7}},
               {"name": "swapout/zswap/lzo/ratio2/seq", "swapbench": {"count_report": 1, "boot": 7}},
               {"name": "swapin/zswap/lzo/ratio2/random", "swapbench": {"count_report": 5, "boot": 7}}]
    blocks = count.exact_blocks(entries, keyed, {"qemu_version": "QEMU 7.2.22", "cpu_model": "max", "icount": False})
    b = blocks["swapin/zswap/lzo/ratio2/random"]
    assert b["schema"] == count.EXACT_SCHEMA and b["source"] == "qemu-plugin"
    assert b["repetitions"] == 1 and b["missing"] == [{"boot": 7, "count_report": 5, "why": "no plugin report"}]
    assert b["kernel_instructions_per_op"]["median"] == 17713
    assert b["functions"]["do_swap_page"] == {"instructions_per_call": 247, "calls_per_op": 1, "spread_per_call": 0}
    out = blocks["swapout/zswap/lzo/ratio2/seq"]["functions"]["do_swap_page"]
    assert out["instructions_per_call"] is None and out["calls_per_op"] == 0, "no call: no per-call figure, not 0"


def test_the_spread_between_boots_is_kept():
    reports = {(1, 0): _report(0, 100, 19822, 40, {"zswap_load": {"instructions": 5700, "calls": 100}}),
               (2, 0): _report(0, 100, 19833, 40, {"zswap_load": {"instructions": 5700, "calls": 100}})}
    entries = [{"name": "s", "swapbench": {"count_report": 0, "boot": 1}},
               {"name": "s", "swapbench": {"count_report": 0, "boot": 2}}]
    b = count.exact_blocks(entries, reports, {})["s"]
    assert b["spread"]["kernel_median_per_op"] == 11
    assert b["functions"]["zswap_load"]["spread_per_call"] == 0
    assert b["kernel_instructions_per_op"]["min"] == 19822


def test_a_line_that_is_not_json_is_named(tmp_path):
    p = tmp_path / "plugin.jsonl"
    p.write_text('{"report": 0, "ops": 1}\nnot json\n')
    with pytest.raises(KernelError, match=r"plugin.jsonl:2"):
        count.read_reports(str(p))


def test_funcs_file_is_sorted_by_address_with_exclusive_ends(tmp_path):
    path = count.funcs_file({"b": (0x20, 0x30), "a": (0x10, 0x20)}, str(tmp_path / "f"))
    assert open(path).read() == "a 10 20\nb 20 30\n"


def test_aliases_are_given_to_the_plugin_once(tmp_path):
    path = count.funcs_file({"b_alias": (0x10, 0x20), "a": (0x10, 0x20), "c": (0x20, 0x30)}, str(tmp_path / "f"))
    assert open(path).read() == "a 10 20\nc 20 30\n"


def test_arm64_kernels_also_count_the_mte_free_path_and_x86_lists_are_unchanged():
    base = count.functions()
    arm = count.functions("arm64")
    assert arm[:len(base)] == base and len(arm) == len(set(arm))
    for f in ("arch_swap_restore", "mte_restore_tags", "mte_save_tags", "arch_prepare_to_swap",
              "mte_invalidate_tags", "arch_swap_invalidate_page"):
        assert f in arm
    assert "mte_invalidate_tags" not in base


def test_a_function_the_kernel_lacks_is_absent_with_its_reason_never_zero():
    doc = {"missing": ["arch_swap_invalidate_page"], "ambiguous": ["dup_static"]}
    a = count.absent_functions(doc)
    assert set(a) == {"arch_swap_invalidate_page", "dup_static"}
    assert "inlined" in a["arch_swap_invalidate_page"] and "ambiguous" in a["dup_static"]
    assert count.absent_functions({}) == {}
