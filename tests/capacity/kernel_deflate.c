/* The kernel's crypto deflate as crypto/deflate.c drives it (level 6, raw, window bits 11, memLevel
   MAX_MEM_LEVEL = 8, reset per page, Z_FINISH), on lib/zlib_deflate compiled in user space. */
#include <stdlib.h>
#include "linux/zlib.h"
static z_stream s;
static int ready;
long kernel_deflate_len(const unsigned char *page, unsigned char *out, long cap)
{
	if (!ready) {
		s.workspace = malloc(zlib_deflate_workspacesize(-11, 8));
		if (zlib_deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -11, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		ready = 1;
	}
	zlib_deflateReset(&s);
	s.next_in = page;
	s.avail_in = 4096;
	s.next_out = out;
	s.avail_out = cap;
	if (zlib_deflate(&s, Z_FINISH) != Z_STREAM_END)
		return -2;
	return (long)s.total_out;
}
