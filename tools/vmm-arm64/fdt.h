/* A flattened device tree (DTB, version 17) written in one pass: nodes and
 * properties in order, then fdt_finish. Enough for a VMM's tree; strings
 * are not deduplicated beyond exact repeats. */
#ifndef VMM_FDT_H
#define VMM_FDT_H

#include <stddef.h>
#include <stdint.h>

struct fdt {
	uint8_t *st;		/* structure block */
	size_t st_len, st_cap;
	char *str;		/* strings block */
	size_t str_len, str_cap;
	int depth;
	int error;
};

void fdt_begin_node(struct fdt *f, const char *name);
void fdt_end_node(struct fdt *f);
void fdt_prop(struct fdt *f, const char *name, const void *val, size_t len);
void fdt_prop_str(struct fdt *f, const char *name, const char *s);
/* A list of NUL-separated strings, e.g. "arm,pl011\0arm,primecell" with
 * its full length. */
void fdt_prop_strs(struct fdt *f, const char *name, const char *s, size_t len);
void fdt_prop_u32(struct fdt *f, const char *name, uint32_t v);
/* n 32-bit cells, big-endian in the blob. */
void fdt_prop_cells(struct fdt *f, const char *name, const uint32_t *cells, size_t n);
/* Writes the blob to out (at most cap bytes); returns its size, or 0 on
 * error (nodes left open, no memory, too big). Frees the builder. */
size_t fdt_finish(struct fdt *f, void *out, size_t cap);

#endif
