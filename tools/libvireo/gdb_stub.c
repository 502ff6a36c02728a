// SPDX-License-Identifier: BSD-2-Clause
/*
 * The gdb stub's commands (gdb_stub.h): the GDB manual's "Packets", "General
 * Query Packets", "Stop Reply Packets" and "Target Description Format" for a
 * 64-bit RISC-V target whose threads are a VM's vCPUs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_stub.h"

#define SIGINT_GDB  2
#define SIGTRAP_GDB 5
#define SIGSEGV_GDB 11
#define KILLED	    137 /* the exit status of a VM gdb kills: 128 + SIGKILL */

#define MEM_CHUNK_READ	CTL_REPLY_MAX
#define MEM_CHUNK_WRITE (CTL_ARGS_MAX - 24)
#define OUT_CAP		(RSP_MAX_PACKET + 64)

/* gdb's remote register numbers: the order of the 'g' packet (target.xml says so). */
enum {
	REG_X0 = 0,
	REG_PC = 32,
	REG_F0 = 33,
	REG_FFLAGS = 65,
	REG_FRM = 66,
	REG_FCSR = 67,
	REG_CSR0 = 68, /* sstatus .. satp: 9 of them, as in struct ctl_regs */
	REG_PRIV = 77,
	REG_COUNT = 78,
};

static const char *const xnames[32] = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "fp", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static const char *const fnames[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4",	"ft5",	"ft6", "ft7", "fs0",  "fs1",  "fa0",
    "fa1", "fa2", "fa3", "fa4", "fa5",	"fa6",	"fa7", "fs2", "fs3",  "fs4",  "fs5",
    "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

static const char *const csrnames[9] = {"sstatus", "sie",   "stvec", "sscratch", "sepc",
					"scause",  "stval", "sip",   "satp"};

/* ------------------------------------------------------------------ replies */

static void out_reset(struct gdb_stub *g)
{
	g->out_len = 0;
	g->out_failed = false;
}

static void out_bytes(struct gdb_stub *g, const void *p, size_t n)
{
	if (g->out_failed || n > OUT_CAP - g->out_len) {
		g->out_failed = true;
		return;
	}
	memcpy(g->out + g->out_len, p, n);
	g->out_len += n;
}

static void out_str(struct gdb_stub *g, const char *s)
{
	out_bytes(g, s, strlen(s));
}

static void out_fmt(struct gdb_stub *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct gdb_stub *g, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		g->out_failed = true;
	else
		out_bytes(g, buf, (size_t)n);
}

static void out_hex(struct gdb_stub *g, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		char two[2] = {digits[b[i] >> 4], digits[b[i] & 15]};

		out_bytes(g, two, 2);
	}
}

static void reply_out(struct gdb_stub *g)
{
	if (g->out_failed)
		rsp_send(&g->rsp, "E01", 3);
	else
		rsp_send(&g->rsp, g->out, g->out_len);
}

static void reply(struct gdb_stub *g, const char *s)
{
	rsp_send(&g->rsp, s, strlen(s));
}

/* An error reply: "E" and the errno in two hex digits. */
static void reply_error(struct gdb_stub *g, int err)
{
	char e[8];

	snprintf(e, sizeof(e), "E%02x", (unsigned)(err < 0 ? -err : err) & 0xff);
	reply(g, e);
}

/* Console output for the debugger (monitor commands): an O packet. */
static void console(struct gdb_stub *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void console(struct gdb_stub *g, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	out_reset(g);
	out_str(g, "O");
	out_hex(g, text, (size_t)n);
	reply_out(g);
}

/* ------------------------------------------------------------------ parsing */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number at *p (at least one digit, at most 16), *p moved past it. */
static bool parse_hex(const char **p, const char *end, uint64_t *v)
{
	unsigned digits = 0;

	*v = 0;
	while (*p < end && hexval(**p) >= 0) {
		if (++digits > 16)
			return false;
		*v = *v << 4 | (uint64_t)hexval(**p);
		(*p)++;
	}
	return digits > 0;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* Hex-encoded bytes (2 digits each) into out; false if malformed. */
static bool parse_bytes(const char *p, size_t digits, uint8_t *out)
{
	if (digits % 2)
		return false;
	for (size_t i = 0; i < digits / 2; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A thread id: "-1" (all), "0" (any) or a positive hex number; the vCPU it names,
 * -1 for all/any, or -2 if malformed or no such vCPU. */
static int parse_thread(const struct gdb_stub *g, const char *p, const char *end)
{
	uint64_t id;

	if (end - p == 2 && p[0] == '-' && p[1] == '1')
		return -1;
	if (!parse_hex(&p, end, &id) || p != end)
		return -2;
	if (id == 0)
		return -1;
	return id <= g->nvcpus ? (int)(id - 1) : -2;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* ------------------------------------------------------------------ Vireo */

static int request(struct gdb_stub *g, uint16_t op, const void *args, uint32_t len, void *reply_buf,
		   uint32_t cap, uint32_t *got)
{
	uint32_t none;

	return g->be->request(g->ctx, op, args, len, reply_buf, cap, got ? got : &none);
}

static int vm_op(struct gdb_stub *g, uint16_t op)
{
	uint8_t a[4];

	ctl_put_u32(a, g->vm);
	return request(g, op, a, 4, NULL, 0, NULL);
}

static void forget_regs(struct gdb_stub *g)
{
	for (unsigned i = 0; i < g->nvcpus; i++)
		g->regs[i].valid = false;
}

/* The registers of vCPU v (fetched once per stop). */
static struct ctl_regs *regs_of(struct gdb_stub *g, unsigned v, int *err)
{
	struct gdb_stub_regs *r = &g->regs[v];
	uint8_t a[8];
	uint32_t got;
	int rc;

	if (r->valid)
		return &r->r;
	ctl_put_u32(a, g->vm);
	ctl_put_u32(a + 4, v);
	rc = request(g, CTL_OP_VCPU_GET_REGS, a, 8, &r->r, sizeof(r->r), &got);
	if (rc < 0 || got != sizeof(r->r)) {
		*err = rc < 0 ? rc : -EIO;
		return NULL;
	}
	r->valid = true;
	return &r->r;
}

static int store_regs(struct gdb_stub *g, unsigned v)
{
	uint8_t a[8 + CTL_REGS_SIZE];

	ctl_put_u32(a, g->vm);
	ctl_put_u32(a + 4, v);
	memcpy(a + 8, &g->regs[v].r, CTL_REGS_SIZE); /* the wire is little-endian, as we are */
	return request(g, CTL_OP_VCPU_SET_REGS, a, sizeof(a), NULL, 0, NULL);
}

/* Wait until the VM is parked (after a stop event, or to interrupt it). */
static int park(struct gdb_stub *g)
{
	int rc = vm_op(g, CTL_OP_VM_PAUSE);

	forget_regs(g);
	return rc;
}

/* ------------------------------------------------------------------ the target */

static bool has_fp(const struct gdb_stub *g)
{
	return (g->features & CTL_DBG_F_FP) != 0;
}

static void xml_add(char **xml, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xml_add(char **xml, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more = NULL, *grown;
	int n;

	if (!*xml)
		return;
	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	grown = n < 0 ? NULL : realloc(*xml, *len + (size_t)n + 1);
	if (!grown) {
		free(more);
		free(*xml);
		*xml = NULL;
		return;
	}
	memcpy(grown + *len, more, (size_t)n + 1);
	*xml = grown;
	*len += (size_t)n;
	free(more);
}

/* target.xml: the registers, their numbers and sizes (the order of 'g'). The OS ABI
 * "none" keeps gdb from stepping by itself with breakpoints: the stub's step is the
 * precise one (one vCPU alone, its interrupts held off). */
static void build_xml(struct gdb_stub *g)
{
	char *x = strdup("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
			 "<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n"
			 "<osabi>none</osabi>\n<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
	size_t n = x ? strlen(x) : 0;

	for (unsigned i = 0; i < 32; i++)
		xml_add(&x, &n, "<reg name=\"%s\" bitsize=\"64\" type=\"%s\" regnum=\"%u\"/>\n",
			xnames[i],
			i == 1	 ? "code_ptr"
			: i == 2 ? "data_ptr"
				 : "int",
			REG_X0 + i);
	xml_add(&x, &n, "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%u\"/>\n",
		REG_PC);
	xml_add(&x, &n, "</feature>\n");
	if (has_fp(g)) {
		xml_add(&x, &n, "<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
		for (unsigned i = 0; i < 32; i++)
			xml_add(&x, &n,
				"<reg name=\"%s\" bitsize=\"64\" type=\"ieee_double\" "
				"regnum=\"%u\"/>\n",
				fnames[i], REG_F0 + i);
		xml_add(
		    &x, &n,
		    "<reg name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n"
		    "<reg name=\"frm\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n"
		    "<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n</feature>\n",
		    REG_FFLAGS, REG_FRM, REG_FCSR);
	}
	xml_add(&x, &n, "<feature name=\"org.gnu.gdb.riscv.csr\">\n");
	for (unsigned i = 0; i < 9; i++)
		xml_add(&x, &n, "<reg name=\"%s\" bitsize=\"64\" type=\"int\" regnum=\"%u\"/>\n",
			csrnames[i], REG_CSR0 + i);
	xml_add(&x, &n,
		"</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
		"<reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"%u\"/>\n</feature>\n"
		"</target>\n",
		REG_PRIV);
	g->xml = x;
	g->xml_len = x ? n : 0;
}

/* Where register n is in struct ctl_regs, and its size in bytes; false if the target
 * has no such register. fflags and frm are views of fcsr (fcsr_part). */
static bool reg_slot(const struct gdb_stub *g, unsigned n, uint64_t **slot, unsigned *size,
		     struct ctl_regs *r, int *fcsr_part)
{
	*fcsr_part = 0;
	*size = 8;
	if (n < 32) {
		*slot = n ? &r->x[n] : NULL; /* x0 reads 0: ctl_regs.x[0] is the pc */
		return true;
	}
	if (n == REG_PC) {
		*slot = &r->x[0];
		return true;
	}
	if (n >= REG_F0 && n <= REG_FCSR) {
		if (!has_fp(g))
			return false;
		if (n < REG_FFLAGS) {
			*slot = &r->f[n - REG_F0];
			return true;
		}
		*slot = &r->fcsr;
		*size = 4;
		*fcsr_part = n == REG_FFLAGS ? 1 : n == REG_FRM ? 2 : 3;
		return true;
	}
	if (n >= REG_CSR0 && n < REG_CSR0 + 9) {
		static const size_t at[9] = {
		    offsetof(struct ctl_regs, sstatus), offsetof(struct ctl_regs, sie),
		    offsetof(struct ctl_regs, stvec),	offsetof(struct ctl_regs, sscratch),
		    offsetof(struct ctl_regs, sepc),	offsetof(struct ctl_regs, scause),
		    offsetof(struct ctl_regs, stval),	offsetof(struct ctl_regs, sip),
		    offsetof(struct ctl_regs, satp),
		};

		*slot = (uint64_t *)((uint8_t *)r + at[n - REG_CSR0]);
		return true;
	}
	if (n == REG_PRIV) {
		*slot = &r->priv;
		return true;
	}
	return false;
}

static uint64_t reg_read(const uint64_t *slot, int fcsr_part)
{
	uint64_t v = slot ? *slot : 0;

	if (fcsr_part == 1)
		return v & 0x1f;
	if (fcsr_part == 2)
		return (v >> 5) & 7;
	return v;
}

static void reg_write(uint64_t *slot, int fcsr_part, uint64_t v)
{
	if (!slot)
		return;
	if (fcsr_part == 1)
		*slot = (*slot & ~0x1fULL) | (v & 0x1f);
	else if (fcsr_part == 2)
		*slot = (*slot & ~0xe0ULL) | (v & 7) << 5;
	else
		*slot = v;
}

static void out_reg(struct gdb_stub *g, uint64_t v, unsigned size)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	out_hex(g, b, size);
}

/* ------------------------------------------------------------------ stops */

static void set_stop(struct gdb_stub *g, unsigned sig, unsigned vcpu, bool swbreak)
{
	g->cur = vcpu;
	g->gthread = vcpu;
	g->cthread = -1;
	snprintf(g->stop_reply, sizeof(g->stop_reply), "T%02xthread:%x;%s", sig, vcpu + 1,
		 swbreak && g->swbreak ? "swbreak:;" : "");
}

/* Take one event, if there is one: the VM's end (told to the debugger unless `quiet`),
 * or a stop while it runs, reported once the VM is parked. A stop while the VM is
 * stopped is stale (it raced with an interrupt) and dropped. */
static bool take_event(struct gdb_stub *g, bool quiet)
{
	struct ctl_dbg_stop s;
	int status = 0, kind = g->be->event(g->ctx, &s, &status);

	if (kind == 0)
		return false;
	if (kind == 2) {
		g->running = false;
		g->over = true;
		snprintf(g->stop_reply, sizeof(g->stop_reply), "W%02x", (unsigned)status & 0xff);
		if (!quiet)
			reply(g, g->stop_reply);
		return true;
	}
	if (!g->running || s.vcpu >= g->nvcpus)
		return true;
	g->running = false;
	park(g);
	if (s.reason == CTL_DBG_FAULT)
		set_stop(g, SIGSEGV_GDB, s.vcpu, false);
	else
		set_stop(g, SIGTRAP_GDB, s.vcpu, s.reason == CTL_DBG_BREAKPOINT);
	reply(g, g->stop_reply);
	return true;
}

void gdb_stub_poll(struct gdb_stub *g)
{
	while (!g->over && take_event(g, false))
		;
}

/* Before the VM runs again: whatever came while it was stopped is stale. */
static void drop_stale(struct gdb_stub *g)
{
	while (!g->over && !g->running && take_event(g, false))
		;
}

static int resume(struct gdb_stub *g)
{
	int rc;

	drop_stale(g);
	if (g->over)
		return 0;
	rc = vm_op(g, CTL_OP_VM_RESUME);

	if (rc == 0) {
		forget_regs(g);
		g->running = true;
	} else {
		/* A VM that ends at once can take the machine and the link down before
		 * the reply comes: its end, if it came, is the answer (W). */
		gdb_stub_poll(g);
		if (g->over)
			rc = 0;
	}
	return rc;
}

static void step(struct gdb_stub *g, unsigned vcpu)
{
	uint8_t a[8];
	int rc;

	drop_stale(g);
	if (g->over)
		return;
	ctl_put_u32(a, g->vm);
	ctl_put_u32(a + 4, vcpu);
	forget_regs(g);
	rc = request(g, CTL_OP_DBG_STEP, a, 8, NULL, 0, NULL);
	if (rc < 0) {
		/* Nothing to run (a vCPU not started, nowhere to go): stopped where it was. */
		set_stop(g, SIGTRAP_GDB, vcpu, false);
		reply(g, g->stop_reply);
		return;
	}
	g->cur = vcpu;
	g->running = true;
	gdb_stub_poll(g);
}

static void interrupt(void *ctx)
{
	struct gdb_stub *g = ctx;

	if (!g->running)
		return;
	park(g);
	/* A stop that came first is the one to report. */
	gdb_stub_poll(g);
	if (!g->running)
		return;
	g->running = false;
	set_stop(g, SIGINT_GDB, g->cur, false);
	reply(g, g->stop_reply);
}

/* ------------------------------------------------------------------ packets */

static void cmd_g(struct gdb_stub *g)
{
	int err = 0;
	struct ctl_regs *r = regs_of(g, g->gthread, &err);

	if (!r) {
		reply_error(g, err);
		return;
	}
	out_reset(g);
	for (unsigned n = 0; n < REG_COUNT; n++) {
		uint64_t *slot;
		unsigned size;
		int part;

		if (reg_slot(g, n, &slot, &size, r, &part))
			out_reg(g, reg_read(slot, part), size);
	}
	reply_out(g);
}

static void cmd_G(struct gdb_stub *g, const char *p, size_t len)
{
	int err = 0;
	struct ctl_regs *r = regs_of(g, g->gthread, &err), copy;
	size_t at = 0;

	if (!r) {
		reply_error(g, err);
		return;
	}
	copy = *r;
	for (unsigned n = 0; n < REG_COUNT; n++) {
		uint64_t *slot, v = 0;
		uint8_t b[8];
		unsigned size;
		int part;

		if (!reg_slot(g, n, &slot, &size, &copy, &part))
			continue;
		if (len - at < 2 * size)
			break; /* a shorter G sets only the first registers */
		if (!parse_bytes(p + at, 2 * size, b)) {
			reply_error(g, EINVAL);
			return;
		}
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)b[i] << (8 * i);
		if (n != REG_PRIV)
			reg_write(slot, part, v);
		at += 2 * size;
	}
	*r = copy;
	err = store_regs(g, g->gthread);
	if (err < 0) {
		g->regs[g->gthread].valid = false;
		reply_error(g, err);
		return;
	}
	reply(g, "OK");
}

/* p N / P N=V */
static void cmd_p(struct gdb_stub *g, const char *p, const char *end, bool write)
{
	uint64_t n, *slot, v = 0;
	unsigned size;
	int part, err = 0;
	struct ctl_regs *r;

	if (!parse_hex(&p, end, &n) || (write ? !expect(&p, end, '=') : p != end)) {
		reply_error(g, EINVAL);
		return;
	}
	r = regs_of(g, g->gthread, &err);
	if (!r) {
		reply_error(g, err);
		return;
	}
	if (n >= REG_COUNT || !reg_slot(g, (unsigned)n, &slot, &size, r, &part)) {
		reply_error(g, ENOENT);
		return;
	}
	if (!write) {
		out_reset(g);
		out_reg(g, reg_read(slot, part), size);
		reply_out(g);
		return;
	}
	uint8_t b[8];

	if ((size_t)(end - p) != 2 * size || !parse_bytes(p, 2 * size, b)) {
		reply_error(g, EINVAL);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	if (n == REG_PRIV) {
		reply_error(g, EPERM); /* the privilege is where the guest is */
		return;
	}
	reg_write(slot, part, v);
	err = store_regs(g, g->gthread);
	if (err < 0) {
		g->regs[g->gthread].valid = false;
		reply_error(g, err);
		return;
	}
	reply(g, "OK");
}

/* Memory of the selected vCPU's address space (or guest-physical): bytes done. */
static int mem_access(struct gdb_stub *g, uint64_t addr, uint8_t *buf, uint32_t len, bool write)
{
	uint32_t done = 0;

	while (done < len) {
		uint32_t n = len - done, got = 0;
		uint8_t a[CTL_ARGS_MAX];
		int rc;

		if (n > (write ? MEM_CHUNK_WRITE : MEM_CHUNK_READ))
			n = write ? MEM_CHUNK_WRITE : MEM_CHUNK_READ;
		if (g->physical) {
			ctl_put_u32(a, g->vm);
			ctl_put_u32(a + 4, n);
			ctl_put_u64(a + 8, addr + done);
			if (write)
				memcpy(a + 16, buf + done, n);
			rc = request(g, write ? CTL_OP_MEM_WRITE : CTL_OP_MEM_READ, a,
				     16 + (write ? n : 0), buf + done, n, &got);
			if (rc == 0)
				rc = (int)(write ? n : got);
		} else {
			ctl_put_u32(a, g->vm);
			ctl_put_u32(a + 4, g->gthread);
			ctl_put_u32(a + 8, n);
			ctl_put_u32(a + 12, 0);
			ctl_put_u64(a + 16, addr + done);
			if (write)
				memcpy(a + 24, buf + done, n);
			rc = request(g, write ? CTL_OP_DBG_MEM_WRITE : CTL_OP_DBG_MEM_READ, a,
				     24 + (write ? n : 0), buf + done, n, &got);
		}
		if (rc <= 0)
			return done ? (int)done : (rc < 0 ? rc : -EFAULT);
		done += (uint32_t)rc;
		if ((uint32_t)rc < n)
			break;
	}
	return (int)done;
}

/* m addr,len */
static void cmd_m(struct gdb_stub *g, const char *p, const char *end)
{
	uint64_t addr, len;
	uint8_t *buf;
	int rc;

	if (!parse_hex(&p, end, &addr) || !expect(&p, end, ',') || !parse_hex(&p, end, &len) ||
	    p != end) {
		reply_error(g, EINVAL);
		return;
	}
	if (len > (OUT_CAP - 16) / 2)
		len = (OUT_CAP - 16) / 2; /* gdb takes fewer bytes than it asked for */
	if (len == 0) {
		reply(g, "");
		return;
	}
	buf = malloc(len);
	if (!buf) {
		reply_error(g, ENOMEM);
		return;
	}
	rc = mem_access(g, addr, buf, (uint32_t)len, false);
	if (rc < 0) {
		reply_error(g, rc);
	} else {
		out_reset(g);
		out_hex(g, buf, (size_t)rc);
		reply_out(g);
	}
	free(buf);
}

/* M addr,len:hex and X addr,len:bytes */
static void cmd_M(struct gdb_stub *g, const char *p, const char *end, bool binary)
{
	uint64_t addr, len;
	uint8_t *buf;
	int rc;

	if (!parse_hex(&p, end, &addr) || !expect(&p, end, ',') || !parse_hex(&p, end, &len) ||
	    !expect(&p, end, ':') || len > RSP_MAX_PACKET ||
	    (size_t)(end - p) != (binary ? len : 2 * len)) {
		reply_error(g, EINVAL);
		return;
	}
	if (len == 0) {
		reply(g, "OK"); /* gdb probes X with a zero length */
		return;
	}
	buf = malloc(len);
	if (!buf) {
		reply_error(g, ENOMEM);
		return;
	}
	if (binary)
		memcpy(buf, p, len);
	else if (!parse_bytes(p, 2 * len, buf)) {
		free(buf);
		reply_error(g, EINVAL);
		return;
	}
	rc = mem_access(g, addr, buf, (uint32_t)len, true);
	free(buf);
	if (rc < 0 || (uint64_t)rc != len)
		reply_error(g, rc < 0 ? rc : EFAULT);
	else
		reply(g, "OK");
}

/* Z0,addr,kind / z0,addr,kind: software breakpoints; the rest are not offered. */
static void cmd_z(struct gdb_stub *g, const char *p, const char *end, bool set)
{
	uint64_t type, addr, kind;
	uint8_t a[16];
	int rc;

	if (!parse_hex(&p, end, &type) || !expect(&p, end, ',') || !parse_hex(&p, end, &addr) ||
	    !expect(&p, end, ',') || !parse_hex(&p, end, &kind)) {
		reply_error(g, EINVAL);
		return;
	}
	if (type != 0) {
		reply(g, ""); /* hardware breakpoints and watchpoints: not offered */
		return;
	}
	ctl_put_u32(a, g->vm);
	ctl_put_u32(a + 4, g->gthread);
	ctl_put_u64(a + 8, addr);
	rc = request(g, set ? CTL_OP_DBG_BREAK_SET : CTL_OP_DBG_BREAK_CLEAR, a, 16, NULL, 0, NULL);
	/* 1: waiting for the guest to map the address; clearing one that is not there. */
	if (rc >= 0 || (!set && rc == -VIREO_ENOENT))
		reply(g, "OK");
	else
		reply_error(g, rc);
}

static void cmd_H(struct gdb_stub *g, const char *p, const char *end)
{
	char which;
	int t;

	if (p >= end) {
		reply_error(g, EINVAL);
		return;
	}
	which = *p++;
	t = parse_thread(g, p, end);
	if (t == -2 || (which != 'g' && which != 'c')) {
		reply_error(g, EINVAL);
		return;
	}
	if (which == 'g')
		g->gthread = t < 0 ? g->cur : (unsigned)t;
	else
		g->cthread = t;
	reply(g, "OK");
}

/* vCont;action[:thread];...: a step of one vCPU if there is one, else continue. */
static void cmd_vcont(struct gdb_stub *g, const char *p, const char *end)
{
	int step_vcpu = -2;
	bool cont = false;

	while (p < end) {
		const char *action, *next;
		int t = -1;

		if (!expect(&p, end, ';') || p >= end)
			goto bad;
		action = p;
		next = memchr(p, ';', (size_t)(end - p));
		if (!next)
			next = end;
		if (!strchr("cCsSt", *action)) {
			reply(g, ""); /* r (range step) is not offered */
			return;
		}
		p++;
		/* C and S carry a signal: taken and ignored (the guest has no signals). */
		if (*action == 'C' || *action == 'S') {
			uint64_t sig;

			if (!parse_hex(&p, next, &sig))
				goto bad;
		}
		if (p < next) {
			if (*p != ':')
				goto bad;
			t = parse_thread(g, p + 1, next);
			if (t == -2)
				goto bad;
		}
		switch (*action) {
		case 's':
		case 'S':
			if (step_vcpu == -2)
				step_vcpu = t < 0 ? (int)g->cur : t;
			break;
		case 'c':
		case 'C':
			cont = true;
			break;
		default:
			break; /* t, non-stop only: everything is stopped already */
		}
		p = next;
	}
	if (step_vcpu >= 0) {
		step(g, (unsigned)step_vcpu);
		return;
	}
	if (cont) {
		int rc = resume(g);

		if (rc < 0)
			reply_error(g, rc);
		else
			gdb_stub_poll(g);
		return;
	}
	reply_error(g, EINVAL);
	return;
bad:
	reply_error(g, EINVAL);
}

/* c [addr] / s [addr]: resume or step from here, or from addr. */
static void cmd_cs(struct gdb_stub *g, const char *p, const char *end, bool is_step)
{
	unsigned v = g->cthread >= 0 ? (unsigned)g->cthread : g->cur;

	if (p < end) {
		uint64_t addr;
		int err = 0;
		struct ctl_regs *r;

		if (!parse_hex(&p, end, &addr) || p != end) {
			reply_error(g, EINVAL);
			return;
		}
		r = regs_of(g, v, &err);
		if (!r) {
			reply_error(g, err);
			return;
		}
		r->x[0] = addr;
		err = store_regs(g, v);
		if (err < 0) {
			reply_error(g, err);
			return;
		}
	}
	if (is_step) {
		step(g, v);
		return;
	}
	int rc = resume(g);

	if (rc < 0)
		reply_error(g, rc);
	else
		gdb_stub_poll(g);
}

static void cmd_xfer_features(struct gdb_stub *g, const char *p, const char *end)
{
	uint64_t off, len;

	if (!starts(p, (size_t)(end - p), "target.xml:")) {
		reply(g, "E00");
		return;
	}
	p += strlen("target.xml:");
	if (!parse_hex(&p, end, &off) || !expect(&p, end, ',') || !parse_hex(&p, end, &len) ||
	    p != end) {
		reply_error(g, EINVAL);
		return;
	}
	if (!g->xml) {
		reply_error(g, ENOMEM);
		return;
	}
	if (off > g->xml_len) {
		reply_error(g, EINVAL);
		return;
	}
	if (len > RSP_MAX_PACKET / 2)
		len = RSP_MAX_PACKET / 2;
	if (len > g->xml_len - off)
		len = g->xml_len - off;
	out_reset(g);
	out_str(g, off + len < g->xml_len ? "m" : "l");
	out_bytes(g, g->xml + off, (size_t)len);
	reply_out(g);
}

static void monitor(struct gdb_stub *g, const char *cmd)
{
	uint64_t addr, len = 16;
	const char *p, *end;

	if (!strcmp(cmd, "help") || !*cmd) {
		console(g,
			"monitor memory physical|virtual  memory packets by guest-physical "
			"address, or through the selected vCPU's page tables (now %s)\n"
			"monitor translate VA              VA through the selected vCPU's "
			"page tables\n"
			"monitor gpa ADDR [LEN]            LEN bytes of guest-physical memory\n",
			g->physical ? "physical" : "virtual");
		reply(g, "OK");
		return;
	}
	if (!strcmp(cmd, "memory physical") || !strcmp(cmd, "memory virtual")) {
		g->physical = cmd[7] == 'p';
		console(g, "memory packets are by %s address\n",
			g->physical ? "guest-physical" : "guest-virtual");
		reply(g, "OK");
		return;
	}
	if (!strncmp(cmd, "translate ", 10)) {
		uint8_t a[16], r[24];
		uint32_t got = 0;
		int rc;

		p = cmd + 10;
		end = p + strlen(p);
		if (p + 2 < end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		if (!parse_hex(&p, end, &addr) || p != end) {
			reply_error(g, EINVAL);
			return;
		}
		ctl_put_u32(a, g->vm);
		ctl_put_u32(a + 4, g->gthread);
		ctl_put_u64(a + 8, addr);
		rc = request(g, CTL_OP_DBG_TRANSLATE, a, 16, r, sizeof(r), &got);
		if (rc < 0 || got != sizeof(r))
			console(g, "%#llx is not mapped in vCPU %u's page tables\n",
				(unsigned long long)addr, g->gthread);
		else
			console(g, "%#llx -> guest-physical %#llx (page of %llu KiB, pte %#llx)\n",
				(unsigned long long)addr, (unsigned long long)ctl_get_u64(r),
				(unsigned long long)(ctl_get_u64(r + 8) >> 10),
				(unsigned long long)ctl_get_u64(r + 16));
		reply(g, "OK");
		return;
	}
	if (!strncmp(cmd, "gpa ", 4)) {
		uint8_t a[16], buf[64];
		uint32_t got = 0;
		char line[400];
		size_t o = 0;
		int rc;

		p = cmd + 4;
		end = p + strlen(p);
		if (p + 2 < end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		if (!parse_hex(&p, end, &addr)) {
			reply_error(g, EINVAL);
			return;
		}
		if (p < end && *p == ' ') {
			p++;
			if (!parse_hex(&p, end, &len) || len == 0)
				len = 16;
		}
		if (p != end) {
			reply_error(g, EINVAL);
			return;
		}
		if (len > sizeof(buf))
			len = sizeof(buf);
		ctl_put_u32(a, g->vm);
		ctl_put_u32(a + 4, (uint32_t)len);
		ctl_put_u64(a + 8, addr);
		rc = request(g, CTL_OP_MEM_READ, a, 16, buf, sizeof(buf), &got);
		if (rc < 0 || got != len) {
			console(g, "guest-physical %#llx: not RAM\n", (unsigned long long)addr);
			reply(g, "OK");
			return;
		}
		for (uint32_t i = 0; i < got && o < sizeof(line) - 32; i++) {
			if (i % 16 == 0)
				o += (size_t)snprintf(line + o, sizeof(line) - o,
						      "%s%#llx:", i ? "\n" : "",
						      (unsigned long long)(addr + i));
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %02x", buf[i]);
		}
		console(g, "%s\n", line);
		reply(g, "OK");
		return;
	}
	console(g, "unknown monitor command '%s' (monitor help)\n", cmd);
	reply(g, "OK");
}

static void cmd_rcmd(struct gdb_stub *g, const char *p, const char *end)
{
	size_t digits = (size_t)(end - p);
	char cmd[512];

	if (digits % 2 || digits / 2 >= sizeof(cmd) || !parse_bytes(p, digits, (uint8_t *)cmd)) {
		reply_error(g, EINVAL);
		return;
	}
	cmd[digits / 2] = '\0';
	if (strlen(cmd) != digits / 2) {
		reply_error(g, EINVAL);
		return;
	}
	monitor(g, cmd);
}

static void cmd_q(struct gdb_stub *g, const char *s, size_t len)
{
	const char *end = s + len;

	if (starts(s, len, "qSupported")) {
		g->swbreak = memmem(s, len, "swbreak+", 8) != NULL;
		out_reset(g);
		out_fmt(g, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+%s",
			RSP_MAX_PACKET, g->swbreak ? ";swbreak+" : "");
		reply_out(g);
	} else if (starts(s, len, "qXfer:features:read:")) {
		cmd_xfer_features(g, s + strlen("qXfer:features:read:"), end);
	} else if (len == 12 && !memcmp(s, "qfThreadInfo", 12)) {
		out_reset(g);
		out_str(g, "m");
		for (unsigned i = 0; i < g->nvcpus; i++)
			out_fmt(g, "%s%x", i ? "," : "", i + 1);
		reply_out(g);
	} else if (len == 12 && !memcmp(s, "qsThreadInfo", 12)) {
		reply(g, "l");
	} else if (len == 2 && !memcmp(s, "qC", 2)) {
		out_reset(g);
		out_fmt(g, "QC%x", g->cur + 1);
		reply_out(g);
	} else if (starts(s, len, "qThreadExtraInfo,")) {
		int t = parse_thread(g, s + 17, end);
		char text[32];

		if (t < 0) {
			reply_error(g, EINVAL);
			return;
		}
		snprintf(text, sizeof(text), "vCPU %d", t);
		out_reset(g);
		out_hex(g, text, strlen(text));
		reply_out(g);
	} else if (starts(s, len, "qAttached")) {
		reply(g, "1"); /* quitting gdb detaches: the VM runs on */
	} else if (starts(s, len, "qRcmd,")) {
		cmd_rcmd(g, s + 6, end);
	} else if (starts(s, len, "qSymbol")) {
		reply(g, "OK");
	} else {
		reply(g, "");
	}
}

static void detach(struct gdb_stub *g)
{
	if (g->attached) {
		vm_op(g, CTL_OP_DBG_DETACH);
		g->attached = false;
	}
	/* Whatever state it was in, the VM runs on without a debugger. */
	vm_op(g, CTL_OP_VM_RESUME);
	g->running = false;
	g->over = true;
}

static void packet(void *ctx, const char *s, size_t len)
{
	struct gdb_stub *g = ctx;
	const char *end;

	if (!s) {
		reply_error(g, E2BIG);
		return;
	}
	end = s + len;
	if (g->over) {
		/* Only what may follow the end (gdb asks '?' once more). */
		reply(g, len == 1 && s[0] == '?' ? g->stop_reply : "E01");
		return;
	}
	if (g->running) {
		/* All-stop: gdb waits for the stop reply. Anything else is answered, and the
		 * VM runs on. */
		reply_error(g, EBUSY);
		return;
	}
	if (len == 0) {
		reply(g, "");
		return;
	}
	switch (s[0]) {
	case '?':
		reply(g, g->stop_reply);
		break;
	case 'g':
		if (len == 1)
			cmd_g(g);
		else
			reply_error(g, EINVAL);
		break;
	case 'G':
		cmd_G(g, s + 1, len - 1);
		break;
	case 'p':
	case 'P':
		cmd_p(g, s + 1, end, s[0] == 'P');
		break;
	case 'm':
		cmd_m(g, s + 1, end);
		break;
	case 'M':
	case 'X':
		cmd_M(g, s + 1, end, s[0] == 'X');
		break;
	case 'Z':
	case 'z':
		cmd_z(g, s + 1, end, s[0] == 'Z');
		break;
	case 'H':
		cmd_H(g, s + 1, end);
		break;
	case 'T':
		reply(g, parse_thread(g, s + 1, end) >= 0 ? "OK" : "E01");
		break;
	case 'c':
	case 's':
		cmd_cs(g, s + 1, end, s[0] == 's');
		break;
	case 'C':
	case 'S': {
		/* With a signal, which the guest has no use for: ";addr" is not offered. */
		const char *p = s + 1;
		uint64_t sig;

		if (!parse_hex(&p, end, &sig) || p != end)
			reply_error(g, EINVAL);
		else
			cmd_cs(g, p, end, s[0] == 'S');
		break;
	}
	case 'D':
		reply(g, "OK");
		detach(g);
		break;
	case 'k':
		vm_op(g, CTL_OP_DBG_DETACH);
		g->attached = false;
		{
			uint8_t a[8];

			ctl_put_u32(a, g->vm);
			ctl_put_u32(a + 4, KILLED);
			request(g, CTL_OP_VM_STOP, a, 8, NULL, 0, NULL);
		}
		g->over = true;
		break;
	case 'q':
		cmd_q(g, s, len);
		break;
	case 'Q':
		if (len == 15 && !memcmp(s, "QStartNoAckMode", 15)) {
			reply(g, "OK");
			rsp_set_no_ack(&g->rsp);
		} else {
			reply(g, "");
		}
		break;
	case 'v':
		if (len == 6 && !memcmp(s, "vCont?", 6))
			reply(g, "vCont;c;C;s;S");
		else if (starts(s, len, "vCont;"))
			cmd_vcont(g, s + 5, end);
		else if (starts(s, len, "vKill")) {
			reply(g, "OK");
			packet(g, "k", 1);
		} else
			reply(g, "");
		break;
	default:
		reply(g, "");
		break;
	}
}

static void send_bytes(void *ctx, const void *bytes, size_t n)
{
	struct gdb_stub *g = ctx;

	g->be->send(g->ctx, bytes, n);
}

static const struct rsp_ops rsp_callbacks = {
    .packet = packet,
    .interrupt = interrupt,
    .send = send_bytes,
};

/* ------------------------------------------------------------------ life */

int gdb_stub_start(struct gdb_stub *g, const struct gdb_stub_backend *be, void *ctx, uint32_t vm)
{
	uint8_t a[4], info[8];
	uint32_t got = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	g->be = be;
	g->ctx = ctx;
	g->vm = vm;
	g->cthread = -1;
	rsp_init(&g->rsp, &rsp_callbacks, g);
	ctl_put_u32(a, vm);
	rc = request(g, CTL_OP_DBG_ATTACH, a, 4, info, sizeof(info), &got);
	if (rc < 0)
		return rc;
	if (got != sizeof(info) || ctl_get_u32(info) == 0 || ctl_get_u32(info) > 1024) {
		vm_op(g, CTL_OP_DBG_DETACH);
		return -EPROTO;
	}
	g->attached = true;
	g->nvcpus = ctl_get_u32(info);
	g->features = ctl_get_u32(info + 4);
	g->regs = calloc(g->nvcpus, sizeof(*g->regs));
	g->out = malloc(OUT_CAP);
	build_xml(g);
	rc = !g->regs || !g->out ? -ENOMEM : park(g);
	if (rc < 0) {
		vm_op(g, CTL_OP_DBG_DETACH);
		gdb_stub_free(g);
		return rc;
	}
	/* Events from before (a stale stop, or the end) are settled first. */
	set_stop(g, SIGTRAP_GDB, 0, false);
	while (!g->over && take_event(g, true))
		;
	return 0;
}

void gdb_stub_feed(struct gdb_stub *g, const uint8_t *bytes, size_t n)
{
	rsp_feed(&g->rsp, bytes, n);
}

void gdb_stub_end(struct gdb_stub *g)
{
	if (!g->over)
		detach(g);
}

void gdb_stub_free(struct gdb_stub *g)
{
	rsp_free(&g->rsp);
	free(g->regs);
	free(g->xml);
	free(g->out);
	g->regs = NULL;
	g->xml = NULL;
	g->out = NULL;
}
