/* The DTB writer (fdt.h): the devicetree specification's layout: header,
 * memory reservation map (empty), structure block, strings block. */
#include "fdt.h"

#include <stdlib.h>
#include <string.h>

enum { FDT_MAGIC = 0xd00dfeed, BEGIN_NODE = 1, END_NODE = 2, PROP = 3, END = 9 };

static uint32_t be32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static void *grow(void *p, size_t *cap, size_t need, int *error)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	void *q = realloc(p, c);
	if (!q) {
		*error = 1;
		return p;
	}
	*cap = c;
	return q;
}

/* Appends len bytes, then zero padding to a 4-byte boundary. */
static void put(struct fdt *f, const void *data, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	f->st = grow(f->st, &f->st_cap, f->st_len + padded, &f->error);
	if (f->error)
		return;
	memcpy(f->st + f->st_len, data, len);
	memset(f->st + f->st_len + len, 0, padded - len);
	f->st_len += padded;
}

static void put32(struct fdt *f, uint32_t v)
{
	v = be32(v);
	put(f, &v, 4);
}

static uint32_t string_off(struct fdt *f, const char *s)
{
	size_t n = strlen(s) + 1;
	for (size_t i = 0; i + n <= f->str_len; i += strlen(f->str + i) + 1)
		if (!strcmp(f->str + i, s))
			return (uint32_t)i;
	f->str = grow(f->str, &f->str_cap, f->str_len + n, &f->error);
	if (f->error)
		return 0;
	memcpy(f->str + f->str_len, s, n);
	f->str_len += n;
	return (uint32_t)(f->str_len - n);
}

void fdt_begin_node(struct fdt *f, const char *name)
{
	put32(f, BEGIN_NODE);
	put(f, name, strlen(name) + 1);
	f->depth++;
}

void fdt_end_node(struct fdt *f)
{
	put32(f, END_NODE);
	f->depth--;
}

void fdt_prop(struct fdt *f, const char *name, const void *val, size_t len)
{
	put32(f, PROP);
	put32(f, (uint32_t)len);
	put32(f, string_off(f, name));
	put(f, val, len);
}

void fdt_prop_str(struct fdt *f, const char *name, const char *s)
{
	fdt_prop(f, name, s, strlen(s) + 1);
}

void fdt_prop_strs(struct fdt *f, const char *name, const char *s, size_t len)
{
	fdt_prop(f, name, s, len);
}

void fdt_prop_u32(struct fdt *f, const char *name, uint32_t v)
{
	fdt_prop_cells(f, name, &v, 1);
}

void fdt_prop_cells(struct fdt *f, const char *name, const uint32_t *cells, size_t n)
{
	uint32_t buf[16];
	if (n > 16) {
		f->error = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = be32(cells[i]);
	fdt_prop(f, name, buf, n * 4);
}

size_t fdt_finish(struct fdt *f, void *out, size_t cap)
{
	put32(f, END);
	size_t hdr = 40, rsv = 16;
	size_t off_st = hdr + rsv, off_str = off_st + f->st_len;
	size_t total = off_str + f->str_len;
	size_t ret = 0;
	if (!f->error && !f->depth && total <= cap) {
		uint32_t h[10] = {
			be32(FDT_MAGIC), be32((uint32_t)total), be32((uint32_t)off_st),
			be32((uint32_t)off_str), be32((uint32_t)hdr), be32(17), be32(16),
			be32(0), be32((uint32_t)f->str_len), be32((uint32_t)f->st_len),
		};
		uint8_t *o = out;
		memcpy(o, h, hdr);
		memset(o + hdr, 0, rsv);	/* the empty reservation map */
		memcpy(o + off_st, f->st, f->st_len);
		memcpy(o + off_str, f->str, f->str_len);
		ret = total;
	}
	free(f->st);
	free(f->str);
	memset(f, 0, sizeof(*f));
	return ret;
}
