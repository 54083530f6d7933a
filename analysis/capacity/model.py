"""What the kernel would store for a set of pages: the rules of zswap and zram per kernel version
and the allocators' packing (zsmalloc exactly, zbud and z3fold by simulation in arrival order), applied
to per-page compressed lengths (bench/capacity/capacity.cpp's output).

Every rule is read from the kernel source (6.1.192 and 6.12.117 trees, cited per constant);
rules for later kernels come from dated kernel changes and are marked so in RULE_SOURCES. Pure
functions: the unit tests feed them constructed size lists with hand-computed answers.
"""
import math
from dataclasses import dataclass

import numpy as np

PAGE = 4096

# mm/zsmalloc.c (6.1 and 6.12): 16-byte class steps from 32 bytes (PAGE_SIZE >> CLASS_BITS, CLASS_BITS
# 8), the 8-byte handle added to every object before the class lookup (ZS_HANDLE_SIZE), 4096 the
# largest object.
ZS_MIN_ALLOC = 32
ZS_DELTA = PAGE >> 8
ZS_HANDLE = 8
ZS_CLASSES = -(-(PAGE - ZS_MIN_ALLOC) // ZS_DELTA) + 1  # 255

CLASS_ZERO, CLASS_SAME, CLASS_DATA = 0, 1, 2

RULE_SOURCES = {
    "zsmalloc<6.3": "mm/zsmalloc.c 6.1: get_pages_per_zspage, best integer used-percentage, up to 4 pages",
    "zsmalloc>=6.3": "mm/zsmalloc.c 6.12: calculate_zspage_chain_size, least waste, power-of-2 sizes 1 page, "
                     "up to CONFIG_ZSMALLOC_CHAIN_SIZE (default 8)",
    "zswap same-filled <6.12": "mm/zswap.c 6.1: zswap_is_page_same_filled -> zero-length entry, stored_pages counts it",
    "zswap zero >=6.12": "mm/page_io.c 6.12: is_folio_zero_filled -> zeromap, never reaches zswap; other same-filled "
                         "pages are compressed",
    "zswap poor <6.18": "mm/zswap.c 6.1.192 and 6.12.117: the compressor gets PAGE_SIZE of output, so a length above "
                        "it fails compression (6.1: counted nowhere; 6.12: reject_compress_fail), as validated in "
                        "guests; zbud refuses above 3968 bytes (-ENOSPC: reject_compress_poor)",
    "zswap incompressible >=6.18": "from the notes (no 6.18 source here), confirmed by --validate on 6.18.44: a "
                                   "length >= PAGE_SIZE is stored as the raw page (stored_incompressible_pages)",
    "zswap header": "mm/zswap.c 6.1: an 8-byte zswap_header before each object in evictable pools (zbud, z3fold); "
                    "none in zsmalloc (no evict in 6.1); none from 6.5",
    "zswap entry": "mm/zswap.c: struct zswap_entry 64 bytes in 6.1 (rb_node in it), 56 in 6.12 plus an xarray node "
                   "(576 bytes per 64 slots)",
    "zram": "drivers/block/zram/zram_drv.c 6.1/6.12: same-filled pages kept in the table (same_pages); comp_len >= "
            "zs_huge_class_size stored as PAGE_SIZE (huge_pages, compr_data_size += PAGE_SIZE); zram_table_entry 16 "
            "bytes per disksize page; 6.12+ zero pages stop at the swap core's zeromap (mm/page_io.c), never in zram",
    "zbud": "mm/zbud.c 6.1: 64-byte chunks, a header chunk, 63 usable, two buddies per page, first fit from the "
            "smallest sufficient unbuddied list, objects over 3968 bytes refused",
    "z3fold": "mm/z3fold.c 6.1: up to three buddies per page (first, last, middle) after a two-chunk header (88 "
              "bytes), headless pages above 3904 bytes; simulated in arrival order from the smallest sufficient "
              "unbuddied list, as zbud; compaction acts only after frees (not modelled: a pool that shrank is "
              "approximate)",
}


def parse_version(text):
    """'6.12.117-1' or '6.12' -> (6, 12). Raises ValueError naming the text."""
    parts = str(text).split("-")[0].split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"{text!r}: not a kernel version; accepted: MAJOR.MINOR[.PATCH], e.g. 6.12") from None


# ---------------------------------------------------------------------------------------------
# zsmalloc


def zs_chain_size_61(size, max_pages=4):
    """get_pages_per_zspage (6.1): the page count with the best integer percentage used."""
    best, best_k = 0, 1
    for k in range(1, max_pages + 1):
        zspage = k * PAGE
        used = (zspage - zspage % size) * 100 // zspage
        if used > best:
            best, best_k = used, k
    return best_k


def zs_chain_size_612(size, max_pages=8):
    """calculate_zspage_chain_size (6.12): the page count that wastes least; a power of 2 takes 1."""
    if size & (size - 1) == 0:
        return 1
    best_waste, best_k = None, 1
    for k in range(1, max_pages + 1):
        waste = (k * PAGE) % size
        if best_waste is None or waste < best_waste:
            best_waste, best_k = waste, k
    return best_k


@dataclass(frozen=True)
class ZsClass:
    size: int            # the class's object size (the largest of the merged sizes)
    pages_per_zspage: int
    objs_per_zspage: int


class ZsmallocTable:
    """zs_create_pool's class table: per class index, the (possibly merged) class serving it."""

    def __init__(self, version, chain_size=None):
        self.version = version
        new = version >= (6, 3)
        self.chain_size = chain_size or (8 if new else 4)
        chain = zs_chain_size_612 if new else zs_chain_size_61
        self.by_index = [None] * ZS_CLASSES
        self.huge_class_size = 0
        prev = None
        for i in range(ZS_CLASSES - 1, -1, -1):
            size = min(ZS_MIN_ALLOC + i * ZS_DELTA, PAGE)
            k = chain(size, self.chain_size)
            objs = k * PAGE // size
            # The first class (from the top) that packs more than one object: anything at or above
            # it, counting the handle, is "huge" (one object per page).
            if k != 1 and objs != 1 and not self.huge_class_size:
                self.huge_class_size = size - (ZS_HANDLE - 1)
            if prev is not None and prev.pages_per_zspage == k and prev.objs_per_zspage == objs:
                self.by_index[i] = prev  # merged upward into the larger class
                continue
            prev = ZsClass(size, k, objs)
            self.by_index[i] = prev

    @staticmethod
    def class_index(obj_len):
        size = obj_len + ZS_HANDLE
        idx = 0 if size <= ZS_MIN_ALLOC else -(-(size - ZS_MIN_ALLOC) // ZS_DELTA)
        return min(ZS_CLASSES - 1, idx)

    def classes(self):
        """The distinct classes, smallest first."""
        seen, out = set(), []
        for c in self.by_index:
            if id(c) not in seen:
                seen.add(id(c))
                out.append(c)
        return sorted(out, key=lambda c: c.size)

    def pool_pages(self, lengths, weights=None):
        """Pool pages for objects of these lengths (counts scaled by weights): per class,
        ceil(objects / objects per zspage) zspages of pages_per_zspage pages. With weights the
        counts are estimates and the ceil is applied to the estimate."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.size == 0:
            return 0.0, {}
        idx = np.minimum(ZS_CLASSES - 1, np.where(lengths + ZS_HANDLE <= ZS_MIN_ALLOC, 0,
                                                 -(-(lengths + ZS_HANDLE - ZS_MIN_ALLOC) // ZS_DELTA)))
        counts = np.bincount(idx, weights=weights, minlength=ZS_CLASSES)
        per_class = {}
        for i in np.nonzero(counts)[0]:
            c = self.by_index[i]
            per_class[c] = per_class.get(c, 0.0) + counts[i]
        pages = 0.0
        for c, n in per_class.items():
            pages += math.ceil((n - 1e-9) / c.objs_per_zspage) * c.pages_per_zspage  # 1e-9: float weights
        return float(pages), per_class

    def amortised_bytes(self, lengths):
        """Each object's share of its zspage (pages_per_zspage * PAGE / objs_per_zspage): linear in
        the objects, the pool without its last part-filled zspage per class."""
        out = np.empty(len(lengths))
        for j, n in enumerate(lengths):
            c = self.by_index[self.class_index(int(n))]
            out[j] = c.pages_per_zspage * PAGE / c.objs_per_zspage
        return out


# ---------------------------------------------------------------------------------------------
# zbud and z3fold (arrival order matters: simulated)

ZBUD_CHUNK = 64
ZBUD_NCHUNKS = (PAGE - ZBUD_CHUNK) // ZBUD_CHUNK  # 63
ZBUD_MAX = PAGE - 2 * ZBUD_CHUNK  # 3968: size > PAGE - ZHDR_SIZE_ALIGNED - CHUNK_SIZE is refused


def zbud_pages(lengths):
    """(pages, refused): zbud_alloc in arrival order. An object goes into the first page of the
    smallest unbuddied list with at least its chunks free (lists are stacks: list_add at the
    head); else a new page holds it as the first buddy."""
    unbuddied = [[] for _ in range(ZBUD_NCHUNKS)]  # free chunks -> pages (only the count matters)
    pages = refused = 0
    for n in lengths:
        n = int(n)
        if n > ZBUD_MAX:
            refused += 1
            continue
        chunks = -(-n // ZBUD_CHUNK)
        for free in range(chunks, ZBUD_NCHUNKS):
            if unbuddied[free]:
                unbuddied[free].pop()  # now buddied: both halves used, no third object
                break
        else:
            pages += 1
            free = ZBUD_NCHUNKS - chunks
            if free > 0:
                unbuddied[free].append(1)
    return pages, refused


# struct z3fold_header (6.1, x86-64, no lockdep) is 88 bytes: round_up to 64-byte chunks = 2.
Z3FOLD_HEADER_CHUNKS = 2
Z3FOLD_NCHUNKS = PAGE // ZBUD_CHUNK - Z3FOLD_HEADER_CHUNKS
# Above PAGE - header - one chunk an object takes a page of its own (HEADLESS); above PAGE it is refused.
Z3FOLD_HEADLESS_FROM = PAGE - Z3FOLD_HEADER_CHUNKS * ZBUD_CHUNK - ZBUD_CHUNK


def z3fold_pages(lengths):
    """(pages, refused): z3fold_alloc (6.1) in arrival order, as zbud's: an object goes into the
    first page of the smallest unbuddied list (pages by free chunks, stacks: list_add at the head)
    with at least its chunks free; a page takes its objects as first, last, then middle buddy
    (get_free_buddy), and after each is listed again by its free chunks until it holds three. Above
    PAGE_SIZE - header - one chunk an object is alone in a headless page; above PAGE_SIZE refused.
    Exact for a pool that only grows (stores, no frees): compaction and the stale-page reuse act
    on pages a free left part-empty, which a --validate run never makes."""
    unbuddied = [[] for _ in range(Z3FOLD_NCHUNKS)]  # free chunks -> pages, each [objects, used chunks]
    pages = refused = 0
    for n in lengths:
        n = int(n)
        if n > PAGE:
            refused += 1
            continue
        if n > Z3FOLD_HEADLESS_FROM:
            pages += 1
            continue
        chunks = -(-n // ZBUD_CHUNK)
        for free in range(chunks, Z3FOLD_NCHUNKS):
            if unbuddied[free]:
                p = unbuddied[free].pop()
                break
        else:
            pages += 1
            p = [0, 0]
        p[0] += 1
        p[1] += chunks
        if p[0] < 3:
            unbuddied[Z3FOLD_NCHUNKS - p[1]].append(p)
    return pages, refused


# ---------------------------------------------------------------------------------------------
# What each backend does with a page, by kernel version


@dataclass
class Outcome:
    """Per page: what the backend does with it and what it costs."""
    stored: np.ndarray        # bool: an entry in zswap / a slot in zram
    pooled_len: np.ndarray    # int: the object's length in the allocator (0: no object)
    zero_elsewhere: np.ndarray  # bool: kept out of memory without an object (6.12+ zeromap)
    rejected: np.ndarray      # bool: refused, goes to the backing swap device
    same: np.ndarray          # bool: zswap <6.12 same-filled entries / zram same_pages
    huge: np.ndarray          # bool: zram huge pages / zswap 6.18+ raw pages


def zswap_outcome(classes, lengths, version, allocator="zsmalloc"):
    classes = np.asarray(classes)
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(lengths)
    same = np.zeros(n, bool)
    zero_elsewhere = np.zeros(n, bool)
    if version < (6, 12):
        same = classes != CLASS_DATA
    else:
        zero_elsewhere = classes == CLASS_ZERO
    compress = ~same & ~zero_elsewhere
    header = 8 if (allocator in ("zbud", "z3fold") and version < (6, 5)) else 0
    obj = lengths + header
    if version >= (6, 18):
        huge = compress & (lengths >= PAGE)
        obj = np.where(huge, PAGE, obj)
        rejected = np.zeros(n, bool)
    else:
        huge = np.zeros(n, bool)
        limit = ZBUD_MAX if allocator == "zbud" else PAGE
        rejected = compress & (obj > limit)
    stored = (same | compress) & ~rejected
    pooled = np.where(compress & ~rejected, obj, 0)
    return Outcome(stored, pooled, zero_elsewhere, rejected, same, huge)


def zram_outcome(classes, lengths, huge_class_size, version=(6, 12)):
    """zram_write_page: a same-filled page kept as its word in the table (same_pages), a length at
    or above huge_class_size stored as the raw page (huge_pages). From 6.12 a zero page never
    reaches zram: the swap core keeps it in its zeromap (swpout_zero), as for zswap."""
    classes = np.asarray(classes)
    lengths = np.asarray(lengths, dtype=np.int64)
    zero_elsewhere = (classes == CLASS_ZERO) if version >= (6, 12) else np.zeros(len(lengths), bool)
    same = (classes != CLASS_DATA) & ~zero_elsewhere
    huge = (classes == CLASS_DATA) & (lengths >= huge_class_size)
    pooled = np.where(classes != CLASS_DATA, 0, np.where(huge, PAGE, lengths))
    n = len(lengths)
    return Outcome(~zero_elsewhere, pooled, zero_elsewhere, np.zeros(n, bool), same, huge)


def entry_bytes(backend, version):
    """Per stored page, outside the pool (slab objects, index nodes)."""
    if backend == "zram":
        return 16  # zram_table_entry: handle + flags + spinlock (without lock debugging)
    if version < (6, 6):
        return 64  # struct zswap_entry with its rb_node
    return 56 + 576 / 64  # struct zswap_entry + a share of a full 64-slot xa_node


ALLOCATORS_BY_VERSION = (
    # (allocator, first version, last version): zbud and z3fold left zswap in 6.15
    ("zsmalloc", (3, 14), (99, 0)),
    ("zbud", (3, 11), (6, 14)),
    ("z3fold", (4, 8), (6, 14)),
)


def allocators_for(version):
    return [a for a, lo, hi in ALLOCATORS_BY_VERSION if lo <= version <= hi]


def pool_figures(outcome, allocator, zs_table, weights=None):
    """(pool bytes, refused-by-allocator count) for the pooled objects, scaled by weights."""
    mask = outcome.pooled_len > 0
    lens = outcome.pooled_len[mask]
    w = None if weights is None else np.asarray(weights)[mask]
    if allocator == "zsmalloc":
        pages, _ = zs_table.pool_pages(lens, w)
        return pages * PAGE
    sim = zbud_pages if allocator == "zbud" else z3fold_pages
    if lens.size == 0:
        return 0.0
    pages, _ = sim(lens)
    # Simulated on the sample in its order: pages per object, scaled to the estimated objects.
    scale = 1.0 if w is None else float(np.sum(w)) / lens.size
    return pages * scale * PAGE
