/* The logic of the exact-cost plugin (exactcount.c) that needs no QEMU: marker decoding, function
 * ranges, the per-report state machine and the JSON line. Written so that it compiles as C (the
 * plugin) and as C++ (tests/unit/test_exact_core.cpp), hence the casts on malloc and no designated
 * initialisers. Everything is static inline: the header is the whole library.
 *
 * The encodings, the counting rules and the line format are a contract with the markers
 * (workloads/arch/marker.h) and the count pass (kernels-config/kmatrix/matrix.py):
 * ../../../shared-contract/exact-contract.md. Change them there first. */
#ifndef SWAPBENCH_EXACTCOUNT_CORE_H
#define SWAPBENCH_EXACTCOUNT_CORE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Markers --------------------------------------------------------------------------------- */

enum exact_arch { EXACT_ARCH_OTHER = 0, EXACT_ARCH_X86_64, EXACT_ARCH_ARM64 };
enum exact_marker { EXACT_MARKER_NONE = 0, EXACT_MARKER_START = 1, EXACT_MARKER_STOP = 2, EXACT_MARKER_REPORT = 3 };

/* x86-64: nopl DISP32(%rax,%rax,1) = 0F 1F 84 00 <disp32 LE>; disp32 = base + marker. */
#define EXACT_X86_DISP_BASE 0x53420000u
/* arm64: HINT #imm = 0xD503201F | imm << 5; imm = base + marker (0x6a, 0x6b, 0x6c). */
#define EXACT_ARM64_HINT_BASE 0x69u
#define EXACT_ARM64_HINT(imm) (0xD503201Fu | ((uint32_t)(imm) << 5))

/* QEMU's target_name for the guest ("x86_64", "aarch64"). */
static inline enum exact_arch exact_arch_from_target(const char *target) {
  if (target && strcmp(target, "x86_64") == 0) return EXACT_ARCH_X86_64;
  if (target && strcmp(target, "aarch64") == 0) return EXACT_ARCH_ARM64;
  return EXACT_ARCH_OTHER;
}

static inline uint32_t exact_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Which marker the instruction bytes (as QEMU translated them, memory order) are, if any. Exact
 * match only: a NOP of the same shape with another displacement (compilers pad with
 * nopl 0x0(%rax,%rax,1)) is an ordinary instruction. */
static inline enum exact_marker exact_marker_decode(enum exact_arch arch, const uint8_t *d, size_t n) {
  uint32_t v;
  if (arch == EXACT_ARCH_X86_64) {
    if (n != 8 || d[0] != 0x0F || d[1] != 0x1F || d[2] != 0x84 || d[3] != 0x00) return EXACT_MARKER_NONE;
    v = exact_le32(d + 4);
    if (v >= EXACT_X86_DISP_BASE + EXACT_MARKER_START && v <= EXACT_X86_DISP_BASE + EXACT_MARKER_REPORT)
      return (enum exact_marker)(v - EXACT_X86_DISP_BASE);
    return EXACT_MARKER_NONE;
  }
  if (arch == EXACT_ARCH_ARM64) {
    if (n != 4) return EXACT_MARKER_NONE;
    v = exact_le32(d);
    for (int m = EXACT_MARKER_START; m <= EXACT_MARKER_REPORT; m++)
      if (v == EXACT_ARM64_HINT(EXACT_ARM64_HINT_BASE + (uint32_t)m)) return (enum exact_marker)m;
  }
  return EXACT_MARKER_NONE;
}

/* On x86-64 and arm64 (4-level and 5-level paging, 48/52-bit VA) kernel addresses have the top bit
 * set and user addresses have it clear. API v1 gives no privilege level, so this is the test. */
static inline int exact_is_kernel(uint64_t vaddr) { return (int)(vaddr >> 63); }

/* ---- Function ranges ------------------------------------------------------------------------- */

struct exact_range {
  uint64_t start, end; /* [start, end) */
  size_t func;         /* index into exact_funcs.names (the order of the funcs file) */
};

struct exact_funcs {
  size_t n;
  char **names;              /* in file order: the order of "functions" in each report line */
  struct exact_range *sorted; /* by start, non-overlapping */
};

static inline int exact_range_cmp(const void *a, const void *b) {
  const struct exact_range *x = (const struct exact_range *)a, *y = (const struct exact_range *)b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* The range holding vaddr, or NULL: binary search for the last start <= vaddr, then the end. */
static inline const struct exact_range *exact_range_find(const struct exact_range *r, size_t n, uint64_t vaddr) {
  size_t lo = 0, hi = n; /* first index whose start > vaddr is in [lo, hi] */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r[mid].start <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || vaddr >= r[lo - 1].end) return NULL;
  return &r[lo - 1];
}

static inline void exact_funcs_free(struct exact_funcs *f) {
  for (size_t i = 0; i < f->n; i++) free(f->names[i]);
  free(f->names);
  free(f->sorted);
  memset(f, 0, sizeof *f);
}

static inline void exact_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (err && errlen) vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Parses a funcs file: lines "NAME START_HEX END_HEX" (END exclusive; 0x optional), blank lines and
 * '#' comments skipped. Refuses what would attribute an instruction wrongly without a sign: a
 * malformed line, an empty or user-space range, a name twice, overlapping ranges.
 * Returns 0, or -1 with the reason in err. */
static inline int exact_funcs_parse(const char *text, struct exact_funcs *out, char *err, size_t errlen) {
  size_t cap = 0, line_no = 0;
  const char *p = text;
  memset(out, 0, sizeof *out);
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[512], name[256], extra[2];
    unsigned long long start, end;
    line_no++;
    if (len >= sizeof line) {
      exact_err(err, errlen, "line %zu: longer than %zu characters", line_no, sizeof line - 1);
      goto fail;
    }
    memcpy(line, p, len);
    line[len] = 0;
    p = eol ? eol + 1 : p + len;
    {
      const char *s = line;
      while (*s == ' ' || *s == '\t' || *s == '\r') s++;
      if (*s == 0 || *s == '#') continue;
    }
    if (sscanf(line, "%255s %llx %llx %1s", name, &start, &end, extra) != 3) {
      exact_err(err, errlen, "line %zu: expected NAME START_HEX END_HEX, got '%s'", line_no, line);
      goto fail;
    }
    if (end <= start || !exact_is_kernel(start)) {
      exact_err(err, errlen, "line %zu: %s [%llx, %llx) is empty or not a kernel address", line_no, name, start, end);
      goto fail;
    }
    for (size_t i = 0; i < out->n; i++)
      if (strcmp(out->names[i], name) == 0) {
        exact_err(err, errlen, "line %zu: %s listed twice", line_no, name);
        goto fail;
      }
    if (out->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **nn = (char **)realloc(out->names, ncap * sizeof *nn);
      struct exact_range *nr = nn ? (struct exact_range *)realloc(out->sorted, ncap * sizeof *nr) : NULL;
      if (nn) out->names = nn;
      if (!nn || !nr) {
        exact_err(err, errlen, "out of memory");
        goto fail;
      }
      out->sorted = nr;
      cap = ncap;
    }
    out->names[out->n] = (char *)malloc(strlen(name) + 1); /* strdup is not C11 */
    if (out->names[out->n]) memcpy(out->names[out->n], name, strlen(name) + 1);
    if (!out->names[out->n]) {
      exact_err(err, errlen, "out of memory");
      goto fail;
    }
    out->sorted[out->n].start = start;
    out->sorted[out->n].end = end;
    out->sorted[out->n].func = out->n;
    out->n++;
  }
  if (out->n) qsort(out->sorted, out->n, sizeof *out->sorted, exact_range_cmp);
  for (size_t i = 1; i < out->n; i++)
    if (out->sorted[i].start < out->sorted[i - 1].end) {
      exact_err(err, errlen, "%s and %s overlap", out->names[out->sorted[i - 1].func], out->names[out->sorted[i].func]);
      goto fail;
    }
  return 0;
fail:
  exact_funcs_free(out);
  return -1;
}

/* ---- Per-operation figures and their summary ------------------------------------------------- */

struct exact_vec {
  uint64_t *v;
  size_t n, cap;
};

static inline int exact_vec_push(struct exact_vec *a, uint64_t x) {
  if (a->n == a->cap) {
    size_t ncap = a->cap ? a->cap * 2 : 256;
    uint64_t *nv = (uint64_t *)realloc(a->v, ncap * sizeof *nv);
    if (!nv) return -1;
    a->v = nv;
    a->cap = ncap;
  }
  a->v[a->n++] = x;
  return 0;
}

struct exact_summary {
  size_t n;
  uint64_t median, min, max, total;
  double mean;
};

static inline int exact_u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v in place. The median of an even count is the lower middle value (an integer, and one
 * that some operation really measured). */
static inline struct exact_summary exact_summarise(uint64_t *v, size_t n) {
  struct exact_summary s;
  memset(&s, 0, sizeof s);
  s.n = n;
  if (n == 0) return s;
  qsort(v, n, sizeof *v, exact_u64_cmp);
  for (size_t i = 0; i < n; i++) s.total += v[i];
  s.min = v[0];
  s.max = v[n - 1];
  s.median = v[(n - 1) / 2];
  s.mean = (double)s.total / (double)n;
  return s;
}

/* ---- The state machine ----------------------------------------------------------------------- */

/* What the plugin's inline adds write: running totals since QEMU started. */
struct exact_counters {
  uint64_t user, kernel;
  uint64_t *func_insns, *func_calls; /* [nfuncs] */
};

struct exact_state {
  size_t nfuncs;
  int open;                                /* between START and STOP */
  uint64_t at_user, at_kernel;             /* the counters at START */
  uint64_t *at_insns, *at_calls;           /* [nfuncs] */
  struct exact_vec op_kernel, op_user;     /* one value per closed operation of this report */
  uint64_t *sum_insns, *sum_calls;         /* [nfuncs], summed over this report's operations */
  uint64_t unmatched;                      /* this report's */
  uint64_t reports;                        /* written so far: the next report's number */
};

static inline void exact_state_free(struct exact_state *s) {
  free(s->at_insns);
  free(s->at_calls);
  free(s->sum_insns);
  free(s->sum_calls);
  free(s->op_kernel.v);
  free(s->op_user.v);
  memset(s, 0, sizeof *s);
}

static inline int exact_counters_init(struct exact_counters *c, size_t nfuncs) {
  memset(c, 0, sizeof *c);
  c->func_insns = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t)); /* +1: never calloc(0) */
  c->func_calls = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t));
  return c->func_insns && c->func_calls ? 0 : -1;
}

static inline void exact_counters_free(struct exact_counters *c) {
  free(c->func_insns);
  free(c->func_calls);
  memset(c, 0, sizeof *c);
}

static inline int exact_state_init(struct exact_state *s, size_t nfuncs) {
  memset(s, 0, sizeof *s);
  s->nfuncs = nfuncs;
  s->at_insns = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t));
  s->at_calls = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t));
  s->sum_insns = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t));
  s->sum_calls = (uint64_t *)calloc(nfuncs + 1, sizeof(uint64_t));
  if (s->at_insns && s->at_calls && s->sum_insns && s->sum_calls) return 0;
  exact_state_free(s);
  return -1;
}

/* One marker executed, with the counters as they are just before it (the marker itself is in no
 * bucket). Returns 1 when a report line is due (REPORT), 0 otherwise, -1 when out of memory.
 * START while open and STOP while closed count as unmatched; START while open restarts the
 * operation. An operation still open at REPORT is dropped and counted as unmatched: its figures
 * would belong to no report. */
static inline int exact_on_marker(struct exact_state *s, enum exact_marker m, const struct exact_counters *c) {
  switch (m) {
  case EXACT_MARKER_START:
    if (s->open) s->unmatched++;
    s->open = 1;
    s->at_user = c->user;
    s->at_kernel = c->kernel;
    memcpy(s->at_insns, c->func_insns, s->nfuncs * sizeof(uint64_t));
    memcpy(s->at_calls, c->func_calls, s->nfuncs * sizeof(uint64_t));
    return 0;
  case EXACT_MARKER_STOP:
    if (!s->open) {
      s->unmatched++;
      return 0;
    }
    s->open = 0;
    if (exact_vec_push(&s->op_kernel, c->kernel - s->at_kernel) || exact_vec_push(&s->op_user, c->user - s->at_user))
      return -1;
    for (size_t i = 0; i < s->nfuncs; i++) {
      s->sum_insns[i] += c->func_insns[i] - s->at_insns[i];
      s->sum_calls[i] += c->func_calls[i] - s->at_calls[i];
    }
    return 0;
  case EXACT_MARKER_REPORT:
    if (s->open) {
      s->unmatched++;
      s->open = 0;
    }
    return 1;
  default:
    return 0;
  }
}

/* ---- JSON lines ------------------------------------------------------------------------------ */

struct exact_buf {
  char *s;
  size_t n, cap;
  int oom;
};

static inline void exact_buf_printf(struct exact_buf *b, const char *fmt, ...) {
  va_list ap, ap2;
  int k;
  if (b->oom) return;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (k < 0 || b->n + (size_t)k + 1 > b->cap) {
    size_t ncap = (b->cap ? b->cap : 256);
    char *ns;
    while (k >= 0 && b->n + (size_t)k + 1 > ncap) ncap *= 2;
    ns = k < 0 ? NULL : (char *)realloc(b->s, ncap);
    if (!ns) {
      b->oom = 1;
      va_end(ap2);
      return;
    }
    b->s = ns;
    b->cap = ncap;
  }
  vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap2);
  va_end(ap2);
  b->n += (size_t)k;
}

/* A JSON string: kernel symbols are plain identifiers with dots ("foo.isra.0"), but a funcs file
 * is input, and one stray quote would make the whole line unreadable. */
static inline void exact_buf_json_string(struct exact_buf *b, const char *str) {
  exact_buf_printf(b, "\"");
  for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
    if (*p == '"' || *p == '\\')
      exact_buf_printf(b, "\\%c", *p);
    else if (*p < 0x20)
      exact_buf_printf(b, "\\u%04x", *p);
    else
      exact_buf_printf(b, "%c", *p);
  }
  exact_buf_printf(b, "\"");
}

/* {"median": m, "min": a, "mean": x, "max": b, "total": t}; with no operation there is no median,
 * so null rather than a 0 that would read as "no instructions". */
static inline void exact_buf_summary(struct exact_buf *b, const struct exact_summary *s) {
  if (s->n == 0) {
    exact_buf_printf(b, "{\"median\": null, \"min\": null, \"mean\": null, \"max\": null, \"total\": 0}");
    return;
  }
  exact_buf_printf(b, "{\"median\": %" PRIu64 ", \"min\": %" PRIu64 ", \"mean\": %.3f, \"max\": %" PRIu64
                      ", \"total\": %" PRIu64 "}",
                   s->median, s->min, s->mean, s->max, s->total);
}

/* The report line (with its '\n', malloc'd; NULL when out of memory) for what was counted since the
 * previous REPORT; then resets the per-report accumulators and advances the report number. */
static inline char *exact_report_line(struct exact_state *s, char *const *names) {
  struct exact_buf b;
  struct exact_summary k, u;
  memset(&b, 0, sizeof b);
  k = exact_summarise(s->op_kernel.v, s->op_kernel.n);
  u = exact_summarise(s->op_user.v, s->op_user.n);
  exact_buf_printf(&b, "{\"report\": %" PRIu64 ", \"ops\": %zu, \"kernel\": ", s->reports, k.n);
  exact_buf_summary(&b, &k);
  exact_buf_printf(&b, ", \"user\": ");
  exact_buf_summary(&b, &u);
  exact_buf_printf(&b, ", \"functions\": {");
  for (size_t i = 0; i < s->nfuncs; i++) {
    if (i) exact_buf_printf(&b, ", ");
    exact_buf_json_string(&b, names[i]);
    exact_buf_printf(&b, ": {\"instructions\": %" PRIu64 ", \"calls\": %" PRIu64 "}", s->sum_insns[i], s->sum_calls[i]);
  }
  exact_buf_printf(&b, "}, \"unmatched\": %" PRIu64 "}\n", s->unmatched);
  s->op_kernel.n = s->op_user.n = 0;
  memset(s->sum_insns, 0, s->nfuncs * sizeof(uint64_t));
  memset(s->sum_calls, 0, s->nfuncs * sizeof(uint64_t));
  s->unmatched = 0;
  s->reports++;
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* The last line, at plugin exit: how many report lines this run wrote, so a reader can tell a
 * complete file from one cut short by a crash. */
static inline char *exact_end_line(const struct exact_state *s) {
  struct exact_buf b;
  memset(&b, 0, sizeof b);
  exact_buf_printf(&b, "{\"end\": true, \"reports\": %" PRIu64 "}\n", s->reports);
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

#endif
