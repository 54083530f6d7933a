"""The binary's manifest (results/manifest.json) as the analysis reads it: the names every verb
takes from it, and the refusals of a manifest it cannot use."""
import copy
import json
import subprocess
import sys

import pytest

from analysis import manifest, metrics, output

ROOT = manifest.os.path.dirname(manifest.os.path.dirname(manifest.PATH))


def _doc():
    with open(manifest.PATH) as f:
        return json.load(f)


def _metric(doc, name):
    return next(m for m in doc["metrics"] if m["name"] == name)


def _write(tmp_path, doc, name="manifest.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_the_checked_in_manifest_gives_the_kinds_suites_and_metrics():
    m = manifest.load()
    assert metrics.FAULT_KINDS == m.kinds_where(fault=True) and metrics.SWAPIN in metrics.FAULT_KINDS
    assert metrics.MODEL_KINDS == m.kinds_where(model=True)
    assert output.KIND_SHORT == {k.name: k.short for k in m.kinds.values()}
    assert list(metrics.METRICS) == [d.name for d in m.metrics if not d.family]
    assert m.suite("race").guest_pages is None  # the race sizes its own region


@pytest.mark.parametrize("change, says", [
    (lambda d: d.update(manifest_version=2), "manifest_version is 2; this analysis reads 1"),
    (lambda d: d.pop("manifest_version"), "manifest_version is None"),
    (lambda d: d["kinds"][0].pop("short"), "kinds[0] has no 'short'"),
    (lambda d: d["suites"][0].update(guest_pages="4096"), "suites[0].guest_pages is '4096', not int or null"),
    (lambda d: d["suites"][0]["kinds"].append("sketch_kind"), "suites[0].kinds names sketch_kind, not a declared kind"),
    (lambda d: d["metrics"][0].update(direction="up"), "metrics[0].direction is 'up'; accepted: lower_is_better"),
    (lambda d: d["metrics"][0].update(set_kinds=["nope"]), "metrics[0].set_kinds names nope"),
    (lambda d: d["kinds"].append(copy.deepcopy(d["kinds"][0])), "declared more than once"),
    (lambda d: d.update(kinds={}), "'kinds' is not a list of objects"),
    (lambda d: _metric(d, "kernel_instructions_per_op").pop("per_repetition"), "has no 'per_repetition'"),
    (lambda d: _metric(d, "functions.{}.calls_per_op").pop("spread"), "has no 'spread'"),
    (lambda d: _metric(d, "user_instructions_per_op")["per_repetition"].update(over="ops"),
     "per_repetition.over is 'ops', not list"),
])
def test_a_manifest_it_cannot_use_is_refused_naming_the_file(tmp_path, change, says):
    doc = _doc()
    change(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(manifest.ManifestError) as e:
        manifest.load(path)
    assert path in str(e.value) and says in str(e.value)


def test_a_counted_metric_is_read_where_the_manifest_says_the_count_pass_writes_it():
    """The spread and per-repetition paths come from the binary's table, a family's filled in per
    function; these are where the count pass's exact block has always held them."""
    k = metrics.get("kernel_instructions_per_op")
    assert (k.spread, k.per_rep) == (("exact", "spread", "kernel_median_per_op"), (("kernel", "median"), ()))
    f = metrics.function_metric("zswap_load", "instructions_per_call")
    assert f.spread == ("exact", "functions", "zswap_load", "spread_per_call")
    assert f.per_rep == (("functions", "zswap_load", "instructions"), ("functions", "zswap_load", "calls"))
    c = metrics.get("functions.zswap_load.calls_per_op")
    assert (c.spread, c.per_rep) == ((), (("functions", "zswap_load", "calls"), ("ops",)))
    assert (metrics.get("p50").spread, metrics.get("stale_pages").per_rep) == ((), ())


def test_a_missing_manifest_names_the_command_that_makes_it(tmp_path):
    path = str(tmp_path / "none.json")
    with pytest.raises(manifest.ManifestError) as e:
        manifest.load(path)
    assert f"{path}: missing" in str(e.value) and manifest.REGENERATE in str(e.value)


def test_a_name_python_relies_on_must_be_declared():
    with pytest.raises(manifest.ManifestError) as e:
        manifest.load().kind("sketch_kind")
    assert "declares no kind 'sketch_kind'" in str(e.value) and "swapin" in str(e.value)


def _python(code, *argv, cwd=ROOT):
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd,
                          env=dict(manifest.os.environ, PYTHONPATH=f"{ROOT}/kernels-config:{ROOT}"))


@pytest.mark.parametrize("verbs", ["analysis", "kmatrix"])
def test_every_verb_refuses_a_missing_or_other_version_manifest_with_exit_2(tmp_path, verbs):
    other = _write(tmp_path, dict(_doc(), manifest_version=99), "other.json")
    for path, says in ((str(tmp_path / "gone.json"), "missing"), (other, "manifest_version is 99")):
        r = _python(f"import analysis.manifest as m, runpy, sys; m.PATH = {path!r}; sys.argv[0] = 'x'; "
                    f"runpy.run_module({verbs!r}, run_name='__main__')", "compare", "a.json", "b.json")
        assert r.returncode == 2 and f"swapbench: {path}: {says}" in r.stderr and "Traceback" not in r.stderr


def test_a_kind_and_a_suite_added_to_the_manifest_reach_the_analysis_and_the_matrix(tmp_path):
    # What adding a kind in C++ asks of Python: nothing but the regenerated manifest.
    doc = _doc()
    doc["kinds"].append({"name": "sketch_kind", "short": "sketch_kind", "description": "d", "privileged": True,
                         "fault": True, "model": False, "threads": True})
    doc["suites"].append(dict(doc["suites"][0], name="standard", kinds=["sketch_kind"], guest_pages=512))
    for m in doc["metrics"]:
        if "swapin" in m["set_kinds"]:
            m["set_kinds"].append("sketch_kind")
    path = _write(tmp_path, doc)
    r = _python(f"import analysis.manifest as m; m.PATH = {path!r}\n"
                "from analysis import metrics, output\nfrom kmatrix import matrix\n"
                "print(metrics.get('p50').applies_to('sketch_kind'), 'sketch_kind' in metrics.FAULT_KINDS, "
                "output.KIND_SHORT['sketch_kind'], matrix.default_pages('standard'))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True", "sketch_kind", "512"]


def test_options_of_the_sampler_are_read_from_the_manifest():
    """capacity's options handed to the sampler take their help and default from the sampler's own
    declaration (options.capacity), not from a second copy in Python."""
    import argparse
    from analysis.capacity import cli
    m = manifest.load()
    sample = m.option("capacity", "--sample")
    assert sample.type == "integer" and sample.default == "16384"
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    assert p.parse_args([]).sample == 16384
    helps = {a.option_strings[0]: a.help for a in p._actions if a.option_strings}
    assert helps["--pid"] == m.option("capacity", "--pid").help
    assert helps["--sample"].startswith(sample.help)
    with pytest.raises(manifest.ManifestError, match="declares no option of capacity '--nope'"):
        m.option("capacity", "--nope")
    with pytest.raises(manifest.ManifestError, match="declares no options of 'fio'"):
        m.option("fio", "--pid")
