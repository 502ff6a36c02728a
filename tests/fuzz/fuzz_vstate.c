// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the device states a snapshot carries back into Vireo
 * (vireo/vm_snapshot.h): whatever bytes a snapshot file holds, loading them
 * into the PLIC, the UART or the virtio console either is refused or leaves a
 * device whose invariants hold (only sources and contexts that exist, a FIFO
 * and rings within bounds, a half-sent chain inside guest RAM), and which
 * then runs (a kick, register reads) without touching memory it must not.
 * The first byte picks the device; the rest is its state.
 *
 *   build/fuzz/fuzz_vstate -max_total_time=60 tests/fuzz/corpus/vstate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/snap_io.h>
#include <vireo/vcon.h>
#include <vireo/vplic.h>
#include <vireo/vuart.h>

#include "fuzz_check.h"

#define RAM_GPA	  0x80000000ULL
#define RAM_SIZE  0x20000ULL
#define PLIC_SRCS 64
#define PLIC_CTXS 4

static bool outputs[PLIC_CTXS];

static void plic_notify(void *opaque, unsigned context, bool level)
{
	(void)opaque;
	FUZZ_CHECK(context < PLIC_CTXS);
	outputs[context] = level;
}

static void fuzz_plic(const uint8_t *data, size_t size)
{
	static struct vplic p;
	struct snap_reader r = {data, size, 0, false};

	memset(outputs, 0, sizeof(outputs));
	vplic_init(&p, PLIC_SRCS, PLIC_CTXS, plic_notify, NULL);
	(void)vplic_load(&p, &r);
	FUZZ_CHECK(!(p.pending[0] & 1) && !(p.in_service[0] & 1) && !(p.level[0] & 1));
	for (unsigned w = PLIC_SRCS / 32; w < VPLIC_WORDS; w++)
		FUZZ_CHECK(!p.pending[w] && !p.in_service[w] && !p.level[w]);
	for (unsigned c = 0; c < PLIC_CTXS; c++)
		FUZZ_CHECK(outputs[c] == vplic_context_pending(&p, c));
}

static void uart_tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	(void)byte;
}

static void fuzz_uart(const uint8_t *data, size_t size)
{
	static struct vuart u;
	struct snap_reader r = {data, size, 0, false};
	uint64_t value;

	vuart_init(&u, uart_tx, NULL, NULL);
	(void)vuart_load(&u, &r);
	FUZZ_CHECK(u.rx_head < VUART_FIFO_SIZE && u.rx_count <= VUART_FIFO_SIZE);
	for (uint64_t off = 0; off < 8; off++)
		vuart_mmio_ops.read(&u, off, 1, &value);
}

static void nothing(void *ctx, bool open)
{
	(void)ctx;
	(void)open;
}

static const struct vcon_ops vcon_ops = {.port_open = nothing};

static void fuzz_vcon(const uint8_t *data, size_t size)
{
	static struct vcon c;
	static uint8_t *ram;
	struct snap_reader r = {data, size, 0, false};
	struct guest_mem mem;

	if (!ram)
		ram = calloc(1, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	mem = (struct guest_mem){.nruns = 1, .runs = {{RAM_GPA, RAM_SIZE, ram}}};
	vcon_init(&c, &mem, NULL, &vcon_ops, NULL);
	if (vcon_load(&c, &r) == 0) {
		FUZZ_CHECK(byte_ring_used(&c.to_host) <= VCON_RING_SIZE);
		FUZZ_CHECK(byte_ring_used(&c.console_in) <= VCON_INPUT_SIZE);
		FUZZ_CHECK(c.ctrl_count <= VCON_CTRL_PENDING);
		if (c.tx_pending)
			for (unsigned i = 0; i < c.tx_chain.n; i++)
				FUZZ_CHECK(
				    guest_mem_contains(&mem, c.tx_bufs[i].gpa, c.tx_bufs[i].len));
		vcon_kick(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_plic(data + 1, size - 1);
		break;
	case 1:
		fuzz_uart(data + 1, size - 1);
		break;
	default:
		fuzz_vcon(data + 1, size - 1);
		break;
	}
	return 0;
}
