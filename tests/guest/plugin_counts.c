// The guest side of test_plugin_counts.sh: operations of known user-space length between the exact
// plugin's markers, then one REPORT. Static (gcc -static), so the initramfs needs no libraries.
//
//   plugin_counts N OPS   OPS operations, each: START, a loop of N iterations, getpid (a syscall),
//                         the first write to a fresh page (a page fault), STOP; then REPORT.
//
// Each operation is one asm block, so the compiler adds nothing inside the measured window and its
// user instructions are known exactly: mov + 2N (dec, jnz) + mov + syscall + the store, which runs
// twice (it faults, the kernel maps the page, it runs again) = 2N + 5. The marker bytes are the
// contract's (../../../shared-contract/exact-contract.md), written here rather than taken from
// workloads/arch/marker.h so that this test checks the plugin against the contract, not against
// another copy of the same header.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define REPORT_MARKER ".byte 0x0f, 0x1f, 0x84, 0x00\n\t.long 0x53420003\n\t"

int main(int argc, char **argv) {
#if defined(__x86_64__)
  if (argc != 3 || atol(argv[1]) < 1 || atoi(argv[2]) < 1) {
    fprintf(stderr, "usage: plugin_counts N OPS (N >= 1, OPS >= 1)\n");
    return 2;
  }
  long n = atol(argv[1]);
  int ops = atoi(argv[2]);
  char *pages = mmap(NULL, (size_t)ops * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (int i = 0; i < ops; i++) {
    asm volatile(".byte 0x0f, 0x1f, 0x84, 0x00\n\t.long 0x53420001\n\t"  // START
                 "mov %[n], %%rcx\n\t"
                 "1: dec %%rcx\n\t"
                 "jnz 1b\n\t"
                 "mov $39, %%eax\n\t"  // getpid
                 "syscall\n\t"
                 "movb $1, (%[p])\n\t"
                 ".byte 0x0f, 0x1f, 0x84, 0x00\n\t.long 0x53420002\n\t"  // STOP
                 :
                 : [n] "r"(n), [p] "r"(pages + (size_t)i * 4096)
                 : "rax", "rcx", "r11", "memory");
  }
  asm volatile(REPORT_MARKER ::: "memory");
  printf("plugin_counts: %d operations of %ld iterations\n", ops, n);
  return 0;
#else
  (void)argc;
  (void)argv;
  fprintf(stderr, "plugin_counts: x86-64 only\n");
  return 2;
#endif
}
