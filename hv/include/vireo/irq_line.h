/* SPDX-License-Identifier: BSD-2-Clause */
/* A wire from a virtual device to an interrupt controller input. */
#ifndef VIREO_IRQ_LINE_H
#define VIREO_IRQ_LINE_H

#include <vireo/types.h>

struct irq_line {
	void (*set_level)(void *controller, unsigned source, bool level);
	void *controller;
	unsigned source;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
	if (line && line->set_level)
		line->set_level(line->controller, line->source, level);
}

#endif
