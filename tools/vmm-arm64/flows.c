/* --flow NAME: which seed flow the VMM drives, as a table. */
#include <stdio.h>
#include <string.h>

#include "vmm.h"

struct flow {
	const char *name;
	int (*init)(struct vmm *vmm);
	void (*report)(const struct vmm *vmm);
};

static const struct flow flows[] = {
	{ "vtimer", userirq_init, userirq_report },
	{ "nisv", nisv_init, nisv_report },
	{ "sea", sea_init, sea_report },
};

static const struct flow *find_flow(const char *name)
{
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		if (!strcmp(flows[i].name, name))
			return &flows[i];
	return NULL;
}

int flow_init(struct vmm *vmm)
{
	if (!vmm->flow)
		return 0;
	const struct flow *f = find_flow(vmm->flow);
	if (!f) {
		fprintf(stderr, "softkvm-vmm-arm64: no flow '%s'\n", vmm->flow);
		return -1;
	}
	return f->init(vmm);
}

void flow_report(const struct vmm *vmm)
{
	const struct flow *f = vmm->flow ? find_flow(vmm->flow) : NULL;

	if (f && f->report) {
		f->report(vmm);
		fflush(stdout);
	}
}
