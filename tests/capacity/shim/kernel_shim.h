/* Just enough of the kernel's headers to compile lib/lzo/lzo1x_compress.c in user space, as the
   x86-64 kernel builds it (CONFIG_X86_64, CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS, little endian). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#define CONFIG_X86_64 1
#define CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS 1
#ifndef __LITTLE_ENDIAN
#define __LITTLE_ENDIAN 1234
#endif
#define noinline __attribute__((noinline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define EXPORT_SYMBOL_GPL(x)
#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define BUILD_BUG_ON(x)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define ALIGN(x, a) (((x) + (a) - 1) & ~((uintptr_t)(a) - 1))
#define IS_ALIGNED(x, a) (((uintptr_t)(x) & ((a) - 1)) == 0)
static inline u32 get_unaligned_le32(const void *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline void put_unaligned_le32(u32 v, void *p) { memcpy(p, &v, 4); }
#define get_unaligned(ptr) ({ __typeof__(*(ptr)) _v; memcpy(&_v, (ptr), sizeof(_v)); _v; })
#define put_unaligned(val, ptr) ({ __typeof__(*(ptr)) _v = (val); memcpy((ptr), &_v, sizeof(_v)); })
#define LZO1X_1_MEM_COMPRESS (8192 * sizeof(unsigned short))
#define LZO_E_OK 0
#define LZO_E_OUTPUT_OVERRUN (-5)
int lzo1x_1_compress(const unsigned char *src, size_t src_len, unsigned char *dst, size_t *dst_len, void *wrkmem);
int lzorle1x_1_compress(const unsigned char *src, size_t src_len, unsigned char *dst, size_t *dst_len, void *wrkmem);
/* lib/zlib_deflate (deflate.c, deftree.c) needs these besides. */
#define EXPORT_SYMBOL(x)
#define __init
#define __exit
#define module_init(x)
#define module_exit(x)
#define BUG_ON(x) do { if (x) __builtin_trap(); } while (0)
#define max(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
static inline u8 bitrev8(u8 b) { b = (b & 0xF0) >> 4 | (b & 0x0F) << 4; b = (b & 0xCC) >> 2 | (b & 0x33) << 2; return (b & 0xAA) >> 1 | (b & 0x55) << 1; }
static inline u16 bitrev16(u16 x) { return (u16)(bitrev8(x & 0xff) << 8 | bitrev8(x >> 8)); }
static inline u32 bitrev32(u32 x) { return (u32)bitrev16(x & 0xffff) << 16 | bitrev16(x >> 16); }
