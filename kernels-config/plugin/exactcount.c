/* swapbench's exact-cost counter: a QEMU TCG plugin (API v1, QEMU 7.2's qemu-plugin.h, and API v4,
 * QEMU 10.0's, for the arm64 guests' bookworm-backports QEMU) that counts
 * the guest instructions executed between the benchmark's START and STOP markers, split into kernel
 * and user, and per listed kernel function (own instructions and calls), and appends one JSON line
 * per REPORT marker. The rules and the line format: ../../../shared-contract/exact-contract.md; the
 * logic lives in exactcount_core.h (unit-tested), this file only wires it to QEMU.
 *
 *   qemu-system-x86_64 -smp 1 ... -plugin libswapbench-exact-<version>.so,out=FILE[,funcs=FILE]
 *
 * Built by kmatrix/plugin.py against the header of the QEMU that will load it (CMakeLists.txt). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu/qemu-plugin.h>

#include "exactcount_core.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static enum exact_arch arch;
static struct exact_funcs funcs;
/* Written by the inline adds QEMU emits into translated code; read only by the marker callback.
 * Plain (non-atomic) adds: exact only with one vCPU, which install checks. */
static struct exact_counters live;
static struct exact_state state;
#if QEMU_PLUGIN_VERSION >= 2
/* API v2 removed the inline adds to a plain address: an inline add now targets a scoreboard, one
 * element per vCPU, which QEMU may move when it grows. One element holds every counter:
 * [user, kernel, insns of each function..., calls of each function...]; the marker callback copies
 * it into `live` (the same counters the v1 build adds to directly). */
static struct qemu_plugin_scoreboard *board;
enum { SLOT_USER, SLOT_KERNEL, SLOT_FUNCS };
#endif
static FILE *out;
static const char *out_path;

static void say(const char *fmt, ...) {
  va_list ap;
  /* stderr, not qemu_plugin_outs: that one is shown only with -d plugin. */
  fprintf(stderr, "swapbench exactcount: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
}

static void write_line(char *line) {
  if (!line) {
    say("out of memory writing a report to %s", out_path);
    abort();
  }
  /* A report that cannot be written would shift every later report onto the wrong set: stop. */
  if (fputs(line, out) == EOF || fflush(out) != 0) {
    say("cannot write to %s: %s", out_path, strerror(errno));
    abort();
  }
  free(line);
}

static void on_marker(unsigned int vcpu_index, void *udata) {
  (void)vcpu_index;
#if QEMU_PLUGIN_VERSION >= 2
  const uint64_t *e = (const uint64_t *)qemu_plugin_scoreboard_find(board, vcpu_index);
  live.user = e[SLOT_USER];
  live.kernel = e[SLOT_KERNEL];
  memcpy(live.func_insns, e + SLOT_FUNCS, funcs.n * sizeof(uint64_t));
  memcpy(live.func_calls, e + SLOT_FUNCS + funcs.n, funcs.n * sizeof(uint64_t));
#endif
  int due = exact_on_marker(&state, (enum exact_marker)(uintptr_t)udata, &live);
  if (due < 0) {
    say("out of memory keeping per-operation counts");
    abort();
  }
  if (due == 1) write_line(exact_report_line(&state, funcs.names));
}

#if QEMU_PLUGIN_VERSION >= 2
static void add_slot(struct qemu_plugin_insn *insn, size_t slot) {
  qemu_plugin_u64 entry = {board, slot * sizeof(uint64_t)};
  qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, entry, 1);
}
#define ADD_USER(insn) add_slot(insn, SLOT_USER)
#define ADD_KERNEL(insn) add_slot(insn, SLOT_KERNEL)
#define ADD_FUNC_INSNS(insn, f) add_slot(insn, SLOT_FUNCS + (f))
#define ADD_FUNC_CALLS(insn, f) add_slot(insn, SLOT_FUNCS + funcs.n + (f))
#else
static void add(struct qemu_plugin_insn *insn, uint64_t *counter) {
  qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, counter, 1);
}
#define ADD_USER(insn) add(insn, &live.user)
#define ADD_KERNEL(insn) add(insn, &live.kernel)
#define ADD_FUNC_INSNS(insn, f) add(insn, &live.func_insns[f])
#define ADD_FUNC_CALLS(insn, f) add(insn, &live.func_calls[f])
#endif

/* The instruction's bytes: API v3 copies them into a buffer, v1 and v2 return a pointer. */
static enum exact_marker decode(struct qemu_plugin_insn *insn) {
#if QEMU_PLUGIN_VERSION >= 3
  uint8_t buf[16];
  size_t n = qemu_plugin_insn_data(insn, buf, sizeof buf);
  return exact_marker_decode(arch, buf, n);
#else
  return exact_marker_decode(arch, (const uint8_t *)qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn));
#endif
}

/* Buckets are chosen once, at translation; each execution then costs one to three inline adds. A
 * marker gets a callback instead and is in no bucket, so an operation's figures do not depend on
 * whether QEMU runs an instruction's callback before or after its inline adds. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
    enum exact_marker m = decode(insn);
    if (m != EXACT_MARKER_NONE) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)m);
      continue;
    }
    if (!exact_is_kernel(vaddr)) {
      ADD_USER(insn);
      continue;
    }
    ADD_KERNEL(insn);
    const struct exact_range *r = exact_range_find(funcs.sorted, funcs.n, vaddr);
    if (r) {
      ADD_FUNC_INSNS(insn, r->func);
      if (vaddr == r->start) ADD_FUNC_CALLS(insn, r->func);
    }
  }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  write_line(exact_end_line(&state));
  fclose(out);
  out = NULL;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t n = 0, cap = 0, k;
  if (!f) return NULL;
  do {
    if (n + 4096 + 1 > cap) {
      cap = (cap ? cap * 2 : 8192);
      char *nb = (char *)realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    k = fread(buf + n, 1, 4096, f);
    n += k;
  } while (k > 0);
  fclose(f);
  buf[n] = 0;
  return buf;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  const char *funcs_path = NULL;
  char err[512];
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "out=", 4) == 0)
      out_path = argv[i] + 4;
    else if (strncmp(argv[i], "funcs=", 6) == 0)
      funcs_path = argv[i] + 6;
    else {
      say("unknown argument '%s'; accepted: out=FILE (required), funcs=FILE", argv[i]);
      return -1;
    }
  }
  if (!out_path || !*out_path) {
    say("out=FILE is required (the JSON lines are appended there)");
    return -1;
  }
  arch = exact_arch_from_target(info->target_name);
  if (arch == EXACT_ARCH_OTHER) {
    say("architecture %s is not supported yet (markers are defined for x86_64 and aarch64)", info->target_name);
    return -1;
  }
  if (info->system_emulation && info->system.max_vcpus > 1) {
    /* The counters are plain adds shared by all vCPUs: with more than one they would race. */
    say("the guest has more than one vCPU; counting is exact only with -smp 1");
    return -1;
  }
  if (funcs_path) {
    char *text = slurp(funcs_path);
    if (!text) {
      say("cannot read funcs=%s: %s", funcs_path, strerror(errno));
      return -1;
    }
    int rc = exact_funcs_parse(text, &funcs, err, sizeof err);
    free(text);
    if (rc) {
      say("funcs=%s: %s", funcs_path, err);
      return -1;
    }
  }
  if (exact_counters_init(&live, funcs.n) || exact_state_init(&state, funcs.n)) {
    say("out of memory");
    return -1;
  }
#if QEMU_PLUGIN_VERSION >= 2
  board = qemu_plugin_scoreboard_new((SLOT_FUNCS + 2 * funcs.n) * sizeof(uint64_t));
  if (!board) {
    say("out of memory");
    return -1;
  }
#endif
  out = fopen(out_path, "a");
  if (!out) {
    say("cannot open out=%s: %s", out_path, strerror(errno));
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
  return 0;
}
