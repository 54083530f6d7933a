"""The kernel patches in kernels-config/patches: headers, the files they touch, well-formed hunks, the
known delta. No network and no kernel tree needed; with SWAPBENCH_KERNEL_SRC naming unpacked Debian
trees (separated by ':'; each series takes the tree whose Makefile says it) the dry-runs (each patch
alone and the documented combinations) run too, otherwise they are skipped with that hint."""
import os
import re
import shutil
import subprocess

import pytest

PATCHES = os.path.join(os.path.dirname(__file__), os.pardir, "patches")

# every patch the issue asks for, with the kernel series it is for; a missing file fails
EXPECTED = {
    "zswap-load-known-delta-6.12.patch": "6.12",
    "no-recheck-6.1.patch": "6.1",
    "no-recheck-6.12.patch": "6.12",
    "race-window-6.1.patch": "6.1",
    "race-window-6.12.patch": "6.12",
    "restore-after-free-6.1.patch": "6.1",
    "restore-after-free-6.12.patch": "6.12",
}
# the exact Debian source versions they were made against (the header must name it)
DEBIAN_VERSION = {"6.1": "6.1.192-2", "6.12": "6.12.117-1~deb12u1"}
# combinations that must apply in this order on a pristine tree
COMBINATIONS = [
    ("6.1", ["race-window-6.1.patch", "no-recheck-6.1.patch"]),
    ("6.1", ["no-recheck-6.1.patch", "race-window-6.1.patch"]),
    ("6.12", ["race-window-6.12.patch", "no-recheck-6.12.patch"]),
    ("6.12", ["no-recheck-6.12.patch", "race-window-6.12.patch"]),
    ("6.12", ["race-window-6.12.patch", "no-recheck-6.12.patch", "zswap-load-known-delta-6.12.patch"]),
]

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")


def parse(name):
    """(header text, {field: value}, files touched, hunks); a hunk is (function context, lines)."""
    with open(os.path.join(PATCHES, name)) as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("diff ") or l.startswith("--- "))
    header = "\n".join(lines[:start])
    fields = {}
    for l in lines[:start]:
        m = re.match(r"^([A-Z][A-Za-z ]+): (.+)$", l)
        if m and m.group(1) not in fields:
            fields[m.group(1)] = m.group(2).strip()
    files, hunks = [], []
    i = start
    while i < len(lines):
        l = lines[i]
        if l.startswith("--- "):
            old, new = l[4:].split("\t")[0], lines[i + 1][4:].split("\t")[0]
            assert lines[i + 1].startswith("+++ "), f"{name}: '---' without '+++' at line {i + 1}"
            assert old.startswith("a/") and new.startswith("b/") and old[2:] == new[2:], (name, old, new)
            files.append(new[2:])
            i += 2
            continue
        m = HUNK.match(l)
        if m:
            old_n = int(m.group(2) or 1)
            new_n = int(m.group(4) or 1)
            body = []
            i += 1
            while old_n > 0 or new_n > 0:
                b = lines[i]
                assert b[:1] in (" ", "-", "+"), f"{name}: hunk at line {i + 1} is short or malformed"
                if b[:1] != "+":
                    old_n -= 1
                if b[:1] != "-":
                    new_n -= 1
                body.append(b)
                i += 1
            assert old_n == 0 and new_n == 0, f"{name}: hunk line counts do not match its @@ header"
            hunks.append((m.group(5), body))
            continue
        assert l == "" or l.startswith("diff "), f"{name}: unexpected line {i + 1}: {l!r}"
        i += 1
    return header, fields, files, hunks


def test_every_expected_patch_is_there_and_listed_in_the_readme():
    present = {f for f in os.listdir(PATCHES) if f.endswith(".patch")}
    assert present == set(EXPECTED), (present, set(EXPECTED))
    with open(os.path.join(PATCHES, "README.md")) as f:
        readme = f.read()
    for name in EXPECTED:
        assert f"`{name}`" in readme, f"README.md does not list {name}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_names_the_kernel_and_says_what_and_why(name):
    header, fields, _, _ = parse(name)
    series = EXPECTED[name]
    kernel = fields.get("Kernel", "")
    assert f"linux-source-{series} {DEBIAN_VERSION[series]}" in kernel, (name, kernel)
    assert "What" in header and "Why" in header, f"{name}: the header must say what it does and why"
    assert len(header.split()) > 40, f"{name}: header too short to explain the patch"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_diff_touches_only_the_files_its_header_names(name):
    _, fields, files, hunks = parse(name)
    named = set(fields["Files"].replace(",", " ").split())
    assert files and hunks, f"{name}: no diff"
    assert set(files) == named, (name, files, named)
    assert len(files) == len(set(files)), f"{name}: a file appears twice"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_changed_hunk_is_in_the_function_the_header_names(name):
    _, fields, _, hunks = parse(name)
    func = fields["Function"]
    for ctx, body in hunks:
        changed = [b[1:] for b in body if b[:1] in "+-"]
        if all(c.startswith("#include") for c in changed):
            continue  # an include the change needs, at the top of the file
        assert re.search(rf"\b{func}\(", ctx), f"{name}: hunk '{ctx}' is not in {func}"


def test_known_delta_adds_exactly_the_stated_instruction_count_and_nothing_else():
    name = "zswap-load-known-delta-6.12.patch"
    _, fields, files, hunks = parse(name)
    stated = int(re.match(r"(\d+)", fields["Instructions added per call"]).group(1))
    added = [b[1:] for _, body in hunks for b in body if b.startswith("+")]
    removed = [b for _, body in hunks for b in body if b.startswith("-")]
    assert not removed, f"{name} removes lines: {removed}"
    count = 0
    for line in added:
        s = line.strip()
        if s == "" or s.startswith(("/*", "*")):
            continue  # blank and comment lines add no instruction
        m = re.fullmatch(r'asm volatile\("\.rept (\d+)\\n\\tnop\\n\\t\.endr"\);', s)
        assert m, f"{name}: added code other than a .rept of one nop: {s!r}"
        count += int(m.group(1))
    assert count == stated == 16, (count, stated)
    assert files == ["mm/zswap.c"] and len(hunks) == 1 and "zswap_load(" in hunks[0][0]


def series_of(tree):
    """'6.12' from a kernel tree's Makefile (VERSION, PATCHLEVEL), None when it has none."""
    try:
        with open(os.path.join(tree, "Makefile"), encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    v = re.search(r"^VERSION = (\d+)", head, re.M)
    p = re.search(r"^PATCHLEVEL = (\d+)", head, re.M)
    return f"{v.group(1)}.{p.group(1)}" if v and p else None


def _tree(series):
    trees = [t for t in os.environ.get("SWAPBENCH_KERNEL_SRC", "").split(":") if t]
    root = next((t for t in trees if series_of(t) == series), None)
    if not root or not os.path.isfile(os.path.join(root, "mm", "zswap.c")):
        pytest.skip(f"no pristine {series} tree: add an unpacked linux-source-{series} {DEBIAN_VERSION[series]} "
                    f"(its Makefile and mm/ are enough) to SWAPBENCH_KERNEL_SRC (trees separated by ':')")
    if not shutil.which("patch"):
        pytest.skip("patch(1) not installed: apt-get install patch")
    return root


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_patch_applies_alone_to_the_pristine_tree(name):
    root = _tree(EXPECTED[name])
    r = subprocess.run(["patch", "-p1", "--dry-run", "-F0", "-i", os.path.join(PATCHES, name)],
                       cwd=root, capture_output=True, text=True)
    assert r.returncode == 0 and "FAILED" not in r.stdout and "fuzz" not in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("series,order", COMBINATIONS, ids=lambda v: "+".join(v) if isinstance(v, list) else v)
def test_documented_combinations_apply_in_order(series, order, tmp_path):
    root = _tree(series)
    files = set()
    for name in order:
        files |= set(parse(name)[2])
    for f in files:  # a copy of just the touched files: the tree stays pristine
        os.makedirs(tmp_path / os.path.dirname(f), exist_ok=True)
        shutil.copy(os.path.join(root, f), tmp_path / f)
    for name in order:
        r = subprocess.run(["patch", "-p1", "-F0", "-i", os.path.join(PATCHES, name)],
                           cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0 and "FAILED" not in r.stdout, f"{name} after {order}: {r.stdout}{r.stderr}"
