// SPDX-License-Identifier: BSD-2-Clause
/*
 * The gdb stub (tools/libvireo/rsp.c, gdb_stub.c) against a fake Vireo: the
 * framing (acks, checksums, escapes, Ctrl-C, no-ack mode, packets too long),
 * and each packet gdb-multiarch sends, checked by the control requests it
 * turns into and by the reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gdb_stub.h"

#define NVCPUS	2
#define RAM	0x80000000ULL
#define RAMSIZE 0x10000

/* ---------------------------------------------------------------- a fake Vireo */

static struct {
	struct ctl_regs regs[NVCPUS];
	uint8_t ram[RAMSIZE];
	uint32_t features;
	bool paused;
	int fail_op; /* this op answers fail_rc */
	int fail_rc;
	int break_rc;	  /* what DBG_BREAK_SET answers */
	bool end_on_fail; /* the VM's end comes while fail_op fails (the link went down) */
	uint16_t ops[256];
	uint32_t op_vcpu[256]; /* the vCPU a request named (second u32) */
	uint64_t op_addr[256];
	unsigned nops;
	uint64_t breaks[8];
	unsigned nbreaks;
	struct {
		int kind;
		struct ctl_dbg_stop stop;
		int status;
	} events[8];
	unsigned nevents, event_at;
	int stop_status;
	char out[65536];
	size_t out_len;
} vireo;

static struct gdb_stub stub;

static void event(int kind, uint32_t vcpu, uint32_t reason, int status);

static int fake_request(void *ctx, uint16_t op, const void *args, uint32_t len, void *reply,
			uint32_t cap, uint32_t *got)
{
	const uint8_t *a = args;
	uint32_t vcpu = len >= 8 ? ctl_get_u32(a + 4) : 0;

	(void)ctx;
	*got = 0;
	assert_true(vireo.nops < 256);
	vireo.op_vcpu[vireo.nops] = vcpu;
	vireo.ops[vireo.nops++] = op;
	assert_true(len >= 4);
	assert_int_equal(ctl_get_u32(a), 1); /* always VM 1 */
	if (op == vireo.fail_op) {
		if (vireo.end_on_fail)
			event(2, 0, 0, 0);
		return vireo.fail_rc;
	}
	switch (op) {
	case CTL_OP_DBG_ATTACH:
		assert_true(cap >= 8);
		ctl_put_u32(reply, NVCPUS);
		ctl_put_u32((uint8_t *)reply + 4, vireo.features);
		*got = 8;
		return 0;
	case CTL_OP_DBG_DETACH:
		return 0;
	case CTL_OP_VM_PAUSE:
		vireo.paused = true;
		return 0;
	case CTL_OP_VM_RESUME:
		vireo.paused = false;
		return 0;
	case CTL_OP_VM_STOP:
		vireo.stop_status = (int)ctl_get_u32(a + 4);
		return 0;
	case CTL_OP_VCPU_GET_REGS:
		assert_int_equal(len, 8);
		assert_true(vireo.paused);
		if (vcpu >= NVCPUS)
			return -2;
		memcpy(reply, &vireo.regs[vcpu], sizeof(struct ctl_regs));
		*got = sizeof(struct ctl_regs);
		return 0;
	case CTL_OP_VCPU_SET_REGS:
		assert_int_equal(len, 8 + CTL_REGS_SIZE);
		memcpy(&vireo.regs[vcpu], a + 8, CTL_REGS_SIZE);
		return 0;
	case CTL_OP_DBG_STEP:
		assert_int_equal(len, 8);
		vireo.paused = true; /* the others stay stopped */
		return 0;
	case CTL_OP_DBG_BREAK_SET:
	case CTL_OP_DBG_BREAK_CLEAR:
		assert_int_equal(len, 16);
		vireo.op_addr[vireo.nops - 1] = ctl_get_u64(a + 8);
		if (op == CTL_OP_DBG_BREAK_SET && vireo.nbreaks < 8)
			vireo.breaks[vireo.nbreaks++] = ctl_get_u64(a + 8);
		return op == CTL_OP_DBG_BREAK_SET ? vireo.break_rc : -2;
	case CTL_OP_DBG_MEM_READ:
	case CTL_OP_DBG_MEM_WRITE:
	case CTL_OP_MEM_READ:
	case CTL_OP_MEM_WRITE: {
		bool virt = op == CTL_OP_DBG_MEM_READ || op == CTL_OP_DBG_MEM_WRITE;
		bool write = op == CTL_OP_DBG_MEM_WRITE || op == CTL_OP_MEM_WRITE;
		uint32_t n = ctl_get_u32(a + (virt ? 8 : 4));
		uint64_t addr = ctl_get_u64(a + (virt ? 16 : 8));
		uint32_t hdr = virt ? 24 : 16, ok;

		vireo.op_addr[vireo.nops - 1] = addr;
		assert_true(n > 0 && n <= (write ? CTL_ARGS_MAX - hdr : CTL_REPLY_MAX));
		assert_int_equal(len, hdr + (write ? n : 0));
		if (addr < RAM || addr >= RAM + RAMSIZE)
			return -14;
		ok = (uint32_t)(RAM + RAMSIZE - addr < n ? RAM + RAMSIZE - addr : n);
		if (!virt && ok != n)
			return -14;
		if (write) {
			memcpy(vireo.ram + (addr - RAM), a + hdr, ok);
		} else {
			assert_true(cap >= ok);
			memcpy(reply, vireo.ram + (addr - RAM), ok);
			*got = ok;
		}
		return virt ? (int)ok : 0;
	}
	case CTL_OP_DBG_TRANSLATE:
		ctl_put_u64(reply, ctl_get_u64(a + 8) - 0x1000);
		ctl_put_u64((uint8_t *)reply + 8, 4096);
		ctl_put_u64((uint8_t *)reply + 16, 0xcf);
		*got = 24;
		return 0;
	default:
		fail_msg("unexpected op %#x", op);
		return -38;
	}
}

static int fake_event(void *ctx, struct ctl_dbg_stop *stop, int *status)
{
	(void)ctx;
	if (vireo.event_at == vireo.nevents)
		return 0;
	*stop = vireo.events[vireo.event_at].stop;
	*status = vireo.events[vireo.event_at].status;
	return vireo.events[vireo.event_at++].kind;
}

static void fake_send(void *ctx, const void *bytes, size_t n)
{
	(void)ctx;
	assert_true(vireo.out_len + n < sizeof(vireo.out));
	memcpy(vireo.out + vireo.out_len, bytes, n);
	vireo.out_len += n;
	vireo.out[vireo.out_len] = '\0';
}

static const struct gdb_stub_backend backend = {fake_request, fake_event, fake_send};

static void event(int kind, uint32_t vcpu, uint32_t reason, int status)
{
	vireo.events[vireo.nevents].kind = kind;
	vireo.events[vireo.nevents].stop = (struct ctl_dbg_stop){.vcpu = vcpu, .reason = reason};
	vireo.events[vireo.nevents++].status = status;
}

/* ---------------------------------------------------------------- the debugger's side */

static void raw(const char *s)
{
	gdb_stub_feed(&stub, (const uint8_t *)s, strlen(s));
}

/* Send one packet (as gdb would: '$', data, '#', checksum). */
static void send_packet_n(const char *data, size_t len)
{
	char *framed = malloc(len + 5);
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + (uint8_t)data[i]);
	framed[0] = '$';
	memcpy(framed + 1, data, len);
	snprintf(framed + 1 + len, 4, "#%02x", sum);
	gdb_stub_feed(&stub, (const uint8_t *)framed, len + 4);
	free(framed);
}

static void send_packet(const char *data)
{
	send_packet_n(data, strlen(data));
}

/* The replies since the last call, as packets (acks dropped, escapes undone);
 * checked for their checksums. */
static char replies[65536];

static const char *take_replies(void)
{
	size_t o = 0;

	for (size_t i = 0; i < vireo.out_len; i++) {
		if (vireo.out[i] != '$')
			continue;
		uint8_t sum = 0;
		size_t j = i + 1;

		if (o)
			replies[o++] = '|';
		for (; j < vireo.out_len && vireo.out[j] != '#'; j++) {
			sum = (uint8_t)(sum + (uint8_t)vireo.out[j]);
			assert_true(vireo.out[j] != '*'); /* no run-length encoding */
			if (vireo.out[j] == '}') {
				sum = (uint8_t)(sum + (uint8_t)vireo.out[++j]);
				replies[o++] = (char)(vireo.out[j] ^ 0x20);
			} else {
				replies[o++] = vireo.out[j];
			}
		}
		assert_true(j + 2 < vireo.out_len);
		unsigned given;

		assert_int_equal(sscanf(vireo.out + j + 1, "%2x", &given), 1);
		assert_int_equal(given, sum);
		i = j + 2;
	}
	replies[o] = '\0';
	vireo.out_len = 0;
	return replies;
}

/* One packet, one reply. */
static const char *ask(const char *data)
{
	vireo.out_len = 0;
	send_packet(data);
	return take_replies();
}

static unsigned count_op(uint16_t op)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vireo.nops; i++)
		n += vireo.ops[i] == op;
	return n;
}

static int setup(void **state)
{
	(void)state;
	memset(&vireo, 0, sizeof(vireo));
	vireo.features = CTL_DBG_F_FP | CTL_DBG_F_C;
	for (unsigned v = 0; v < NVCPUS; v++) {
		vireo.regs[v].x[0] = 0x80200000 + v * 0x100;
		for (unsigned i = 1; i < 32; i++)
			vireo.regs[v].x[i] = 0x1000 * v + i;
		vireo.regs[v].f[3] = 0x400921fb54442d18ULL; /* pi */
		vireo.regs[v].fcsr = 0xe5;		    /* frm 7, fflags 5 */
		vireo.regs[v].sstatus = 0x200000000ULL;
		vireo.regs[v].satp = 0x8000000000080010ULL;
		vireo.regs[v].priv = 1;
	}
	for (unsigned i = 0; i < RAMSIZE; i++)
		vireo.ram[i] = (uint8_t)(i * 7);
	assert_int_equal(gdb_stub_start(&stub, &backend, NULL, 1), 0);
	assert_int_equal(vireo.ops[0], CTL_OP_DBG_ATTACH);
	assert_int_equal(vireo.ops[1], CTL_OP_VM_PAUSE);
	vireo.nops = 0;
	vireo.out_len = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gdb_stub_free(&stub);
	return 0;
}

/* ---------------------------------------------------------------- framing */

static void test_framing(void **state)
{
	(void)state;
	/* Acked, answered. */
	send_packet("?");
	assert_int_equal(vireo.out[0], '+');
	assert_string_equal(take_replies(), "T05thread:1;");
	/* A bad checksum is refused, nothing answered. */
	raw("$?#00");
	assert_string_equal(vireo.out, "-");
	vireo.out_len = 0;
	raw("$?#zz");
	assert_string_equal(vireo.out, "-");
	vireo.out_len = 0;
	/* '-' for our last packet: sent again. */
	send_packet("?");
	take_replies();
	raw("-");
	assert_string_equal(take_replies(), "T05thread:1;");
	/* Garbage and a '$' that starts over are skipped. */
	raw("xyz+");
	raw("$qC$?#3f");
	assert_string_equal(take_replies(), "T05thread:1;");
	/* Too long: an error, nothing kept. */
	char *big = malloc(RSP_MAX_PACKET + 10);

	memset(big, 'q', RSP_MAX_PACKET + 9);
	big[RSP_MAX_PACKET + 9] = '\0';
	assert_string_equal(ask(big), "E07");
	free(big);
	/* No-ack mode: no '+' any more, and a '-' is nothing to us. */
	assert_string_equal(ask("QStartNoAckMode"), "OK");
	send_packet("?");
	assert_int_equal(vireo.out[0], '$');
	vireo.out_len = 0;
	raw("-");
	assert_int_equal(vireo.out_len, 0);
	/* Replies escape what must be: a '#' in monitor output is hex, but target.xml
	 * has none; memory in hex has none; so build one: qThreadExtraInfo is hex too. */
	assert_true(stub.rsp.bad_checksums == 2);
}

/* ---------------------------------------------------------------- queries */

static void test_queries(void **state)
{
	char xml[8192] = "";
	const char *r;

	(void)state;
	r = ask("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+");
	assert_non_null(strstr(r, "PacketSize=4000"));
	assert_non_null(strstr(r, "qXfer:features:read+"));
	assert_non_null(strstr(r, "swbreak+"));
	assert_null(strstr(r, "multiprocess"));
	/* target.xml in pieces. */
	for (unsigned off = 0;;) {
		char q[64];

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%x,%x", off, 200);
		r = ask(q);
		assert_true(r[0] == 'm' || r[0] == 'l');
		strcat(xml, r + 1);
		off += (unsigned)strlen(r + 1);
		if (r[0] == 'l')
			break;
		assert_true(off < sizeof(xml) - 300);
	}
	assert_non_null(strstr(xml, "<architecture>riscv:rv64</architecture>"));
	assert_non_null(strstr(xml, "<osabi>none</osabi>"));
	assert_non_null(strstr(xml, "name=\"ft0\""));
	assert_non_null(strstr(xml, "name=\"satp\" bitsize=\"64\" type=\"int\" regnum=\"76\""));
	assert_non_null(strstr(xml, "name=\"priv\""));
	assert_string_equal(ask("qXfer:features:read:other.xml:0,100"), "E00");
	assert_string_equal(ask("qXfer:features:read:target.xml:ffffff,10"), "E16");
	/* Threads. */
	assert_string_equal(ask("qfThreadInfo"), "m1,2");
	assert_string_equal(ask("qsThreadInfo"), "l");
	assert_string_equal(ask("qC"), "QC1");
	assert_string_equal(ask("qThreadExtraInfo,2"), "764350552031"); /* "vCPU 1" */
	assert_string_equal(ask("qThreadExtraInfo,3"), "E16");
	assert_string_equal(ask("T2"), "OK");
	assert_string_equal(ask("T3"), "E01");
	assert_string_equal(ask("qAttached"), "1");
	assert_string_equal(ask("vCont?"), "vCont;c;C;s;S");
	/* Unknown: empty. */
	assert_string_equal(ask("qTStatus"), "");
	assert_string_equal(ask("vMustReplyEmpty"), "");
	assert_string_equal(ask("!"), "");
	assert_int_equal(vireo.nops, 0); /* none of it asked Vireo anything */
}

/* ---------------------------------------------------------------- registers */

static void test_registers(void **state)
{
	char want[2048] = "", g[2048];
	const char *r;

	(void)state;
	/* x0 reads 0, then x1..x31, pc, f0..f31, fflags, frm, fcsr (4 bytes each), the 9
	 * CSRs, priv; each little-endian. */
	r = ask("g");
	assert_int_equal(strlen(r), 2 * (8 * 33 + 8 * 32 + 4 * 3 + 8 * 10));
	strcpy(g, r);
	assert_int_equal(strncmp(g, "0000000000000000", 16), 0);
	assert_int_equal(strncmp(g + 16, "0100000000000000", 16), 0);		    /* ra = 1 */
	assert_int_equal(strncmp(g + 32 * 16, "0000208000000000", 16), 0);	    /* pc */
	assert_int_equal(strncmp(g + 33 * 16 + 3 * 16, "182d4454fb210940", 16), 0); /* ft3 */
	assert_int_equal(strncmp(g + 65 * 16,
				 "05000000"
				 "07000000"
				 "e5000000",
				 24),
			 0);
	assert_int_equal(count_op(CTL_OP_VCPU_GET_REGS), 1);
	/* Cached until the VM runs. */
	assert_string_equal(ask("p20"), "0000208000000000");
	assert_string_equal(ask("p41"), "05000000");	     /* fflags */
	assert_string_equal(ask("p4d"), "0100000000000000"); /* priv */
	assert_string_equal(ask("p4e"), "E02");
	assert_int_equal(count_op(CTL_OP_VCPU_GET_REGS), 1);
	/* Writes go to Vireo at once. */
	assert_string_equal(ask("P1=efbeadde00000000"), "OK");
	assert_int_equal(vireo.regs[0].x[1], 0xdeadbeef);
	assert_string_equal(ask("P0=ffffffffffffffff"), "OK"); /* x0: nothing happens */
	assert_int_equal(vireo.regs[0].x[0], 0x80200000);
	assert_string_equal(ask("P20=0400208000000000"), "OK");
	assert_int_equal(vireo.regs[0].x[0], 0x80200004);
	assert_string_equal(ask("P42=02000000"), "OK"); /* frm = 2: within fcsr */
	assert_int_equal(vireo.regs[0].fcsr, 0x45);
	assert_string_equal(ask("P4d=0000000000000000"), "E01"); /* priv is the guest's */
	assert_string_equal(ask("P1=12"), "E16");
	assert_string_equal(ask("Pzz=00"), "E16");
	/* Another thread's registers. */
	assert_string_equal(ask("Hg2"), "OK");
	assert_string_equal(ask("p1"), "0110000000000000");
	assert_string_equal(ask("Hg0"), "OK");
	assert_string_equal(ask("p1"), "efbeadde00000000");
	assert_string_equal(ask("Hg3"), "E16");
	/* G: all of them back as they were, but sp. */
	strcpy(want, g);
	memcpy(want + 2 * 16, "7856341200000000", 16);
	assert_string_equal(ask("Gzzzzzzzzzzzzzzzz"), "E16");
	char *G = malloc(strlen(want) + 2);

	G[0] = 'G';
	strcpy(G + 1, want);
	assert_string_equal(ask(G), "OK");
	free(G);
	assert_int_equal(vireo.regs[0].x[2], 0x12345678);
	assert_int_equal(vireo.regs[0].x[1], 1);
	assert_int_equal(vireo.regs[0].fcsr, 0xe5);
	assert_int_equal(vireo.regs[0].priv, 1);
	/* Without FP, no FP registers. */
	teardown(NULL);
	vireo.features = 0;
	assert_int_equal(gdb_stub_start(&stub, &backend, NULL, 1), 0);
	vireo.out_len = 0;
	assert_int_equal(strlen(ask("g")), 2 * (8 * 33 + 8 * 10));
	assert_string_equal(ask("p21"), "E02");
}

/* ---------------------------------------------------------------- memory */

static void test_memory(void **state)
{
	const char *r;
	char q[128], *big;

	(void)state;
	r = ask("m80000010,4");
	assert_string_equal(r, "70777e85");
	assert_int_equal(vireo.ops[0], CTL_OP_DBG_MEM_READ);
	/* Long reads are cut into requests of 4096 bytes, and a partial one is what it is. */
	vireo.nops = 0;
	r = ask("m8000e000,3000");
	assert_int_equal(strlen(r), 2 * 0x2000);
	assert_int_equal(count_op(CTL_OP_DBG_MEM_READ), 3); /* the third finds no RAM */
	assert_string_equal(ask("m10,4"), "E0e");
	assert_string_equal(ask("m80000000,0"), "");
	assert_string_equal(ask("m80000000"), "E16");
	assert_string_equal(ask("mfffffffffffffffff,1"), "E16");
	/* Writes in hex and in binary (with an escaped '}' and '#'). */
	assert_string_equal(ask("M80000100,3:aabbcc"), "OK");
	assert_int_equal(vireo.ram[0x100], 0xaa);
	assert_int_equal(vireo.ram[0x102], 0xcc);
	static const char x[] = {'X', '8', '0', '0', '0',	 '0', '2',	  '0', '0',
				 ',', '3', ':', '}', '}' ^ 0x20, '}', '#' ^ 0x20, 'A'};
	vireo.out_len = 0;
	send_packet_n(x, sizeof(x));
	assert_string_equal(take_replies(), "OK");
	assert_memory_equal(vireo.ram + 0x200, "}#A", 3);
	assert_string_equal(ask("X80000000,0:"), "OK");
	assert_string_equal(ask("M80000100,3:aabb"), "E16");
	assert_string_equal(ask("M80000100,1:zz"), "E16");
	assert_string_equal(ask("M10,1:00"), "E0e");
	/* A long write goes in pieces Vireo takes. */
	big = malloc(2 * 3000 + 32);
	snprintf(big, 32, "M80001000,%x:", 3000);
	for (unsigned i = 0; i < 3000; i++)
		memcpy(big + strlen("M80001000,bb8:") + 2 * i, "5a", 2);
	big[strlen("M80001000,bb8:") + 6000] = '\0';
	vireo.nops = 0;
	assert_string_equal(ask(big), "OK");
	free(big);
	assert_int_equal(count_op(CTL_OP_DBG_MEM_WRITE), 4);
	assert_int_equal(vireo.ram[0x1000 + 2999], 0x5a);
	/* The selected thread's page tables. */
	assert_string_equal(ask("Hg2"), "OK");
	vireo.nops = 0;
	ask("m80000000,1");
	assert_int_equal(vireo.op_vcpu[0], 1);
	/* monitor memory physical: the core ops by guest-physical address. */
	snprintf(q, sizeof(q), "qRcmd,%s", "6d656d6f727920706879736963616c"); /* memory physical */
	r = ask(q);
	assert_true(r[0] == 'O');
	assert_string_equal(strchr(r, '|') + 1, "OK");
	vireo.nops = 0;
	assert_string_equal(ask("m80000010,4"), "70777e85");
	assert_int_equal(vireo.ops[0], CTL_OP_MEM_READ);
	assert_string_equal(ask("M80000300,1:11"), "OK");
	assert_int_equal(vireo.ops[1], CTL_OP_MEM_WRITE);
	assert_int_equal(vireo.ram[0x300], 0x11);
}

static void test_monitor(void **state)
{
	char q[256];
	const char *r;

	(void)state;
	/* help, translate, gpa, nonsense: each an O packet then OK. */
	static const char *const cmds[] = {"help", "translate 0xffffffc000001000",
					   "gpa 80000000 20", "frobnicate"};
	static const char *const want[] = {"monitor memory", "-> guest-physical 0xffffffc000000000",
					   "0x80000010: 70 77", "unknown monitor command"};
	for (unsigned i = 0; i < 4; i++) {
		char text[256] = "";
		size_t n = 0;

		strcpy(q, "qRcmd,");
		for (const char *c = cmds[i]; *c; c++)
			sprintf(q + strlen(q), "%02x", (unsigned char)*c);
		r = ask(q);
		assert_int_equal(r[0], 'O');
		for (const char *h = r + 1; h[0] && h[1] && h[0] != '|' && n < 255; h += 2) {
			unsigned b;

			sscanf(h, "%2x", &b);
			text[n++] = (char)b;
		}
		assert_non_null(strstr(text, want[i]));
		assert_string_equal(strchr(r, '|') + 1, "OK");
	}
	assert_string_equal(ask("qRcmd,6"), "E16");
	assert_string_equal(ask("qRcmd,00"), "E16");
}

/* ---------------------------------------------------------------- running */

static void test_breakpoints_and_continue(void **state)
{
	(void)state;
	ask("qSupported:swbreak+");
	assert_string_equal(ask("Z0,80200010,2"), "OK");
	assert_int_equal(vireo.breaks[0], 0x80200010);
	vireo.break_rc = 1; /* waiting for a mapping: fine too */
	assert_string_equal(ask("Z0,ffffffff80001000,4"), "OK");
	vireo.break_rc = -28;
	assert_string_equal(ask("Z0,80200020,2"), "E1c");
	assert_string_equal(ask("z0,80200010,2"), "OK"); /* -ENOENT is fine */
	assert_string_equal(ask("Z1,80200010,2"), "");	 /* hardware: not offered */
	assert_string_equal(ask("Z0,80200010"), "E16");
	/* Continue: the VM runs; a breakpoint's stop on vCPU 1. */
	assert_string_equal(ask("vCont;c"), "");
	assert_false(vireo.paused);
	assert_string_equal(ask("g"), "E10"); /* running: nothing but ^C */
	event(1, 1, CTL_DBG_BREAKPOINT, 0);
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "T05thread:2;swbreak:;");
	assert_true(vireo.paused);
	assert_string_equal(ask("qC"), "QC2");
	/* A fault is SIGSEGV. */
	assert_string_equal(ask("c"), "");
	event(1, 0, CTL_DBG_FAULT, 0);
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "T0bthread:1;");
	/* c with an address sets the pc first. */
	assert_string_equal(ask("c80200100"), "");
	assert_int_equal(vireo.regs[0].x[0], 0x80200100);
	/* Ctrl-C: paused, SIGINT at the current thread. */
	vireo.out_len = 0;
	raw("\x03");
	assert_string_equal(take_replies(), "T02thread:1;");
	raw("\x03"); /* stopped: nothing */
	assert_int_equal(vireo.out_len, 0);
	/* Ctrl-C after a stop came: the stop is what is reported. */
	assert_string_equal(ask("C05"), "");
	event(1, 1, CTL_DBG_BREAKPOINT, 0);
	vireo.out_len = 0;
	raw("\x03");
	assert_string_equal(take_replies(), "T05thread:2;swbreak:;");
	/* A stale stop (it raced with a stop already reported) is dropped at resume. */
	event(1, 0, CTL_DBG_BREAKPOINT, 0);
	assert_string_equal(ask("vCont;c"), "");
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "");
	assert_false(vireo.paused);
	/* The VM's end: W, then only '?' is answered. */
	event(2, 0, 0, 3);
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "W03");
	assert_string_equal(ask("g"), "E01");
	assert_string_equal(ask("?"), "W03");
	assert_true(stub.over);
	vireo.nops = 0;
	gdb_stub_end(&stub); /* nothing left to detach from */
	assert_int_equal(vireo.nops, 0);
}

static void test_step(void **state)
{
	(void)state;
	/* vCont;s:2;c steps vCPU 1 alone. */
	assert_string_equal(ask("vCont;s:2;c"), "");
	assert_int_equal(vireo.ops[0], CTL_OP_DBG_STEP);
	assert_int_equal(vireo.op_vcpu[0], 1);
	event(1, 1, CTL_DBG_STEP, 0);
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "T05thread:2;");
	/* s steps the current thread (the last stop's), Hc another. */
	vireo.nops = 0;
	assert_string_equal(ask("s"), "");
	assert_int_equal(vireo.op_vcpu[0], 1);
	event(1, 1, CTL_DBG_STEP, 0);
	gdb_stub_poll(&stub);
	take_replies();
	assert_string_equal(ask("Hc1"), "OK");
	vireo.nops = 0;
	assert_string_equal(ask("vCont;S05"), "");
	assert_int_equal(vireo.op_vcpu[0], 1); /* vCont names its own: the current one */
	event(1, 1, CTL_DBG_STEP, 0);
	gdb_stub_poll(&stub);
	take_replies();
	assert_string_equal(ask("Hc1"), "OK"); /* a stop forgets Hc: gdb says it again */
	vireo.nops = 0;
	assert_string_equal(ask("s"), "");
	assert_int_equal(vireo.op_vcpu[0], 0);
	event(1, 0, CTL_DBG_STEP, 0);
	gdb_stub_poll(&stub);
	assert_string_equal(take_replies(), "T05thread:1;");
	/* A step Vireo refuses (a vCPU not started) stops at once. */
	vireo.fail_op = CTL_OP_DBG_STEP;
	vireo.fail_rc = -16;
	assert_string_equal(ask("vCont;s:2"), "T05thread:2;");
	vireo.fail_op = 0;
	/* Malformed vCont. */
	assert_string_equal(ask("vCont;s:9"), "E16");
	assert_string_equal(ask("vCont;x"), "");
	assert_string_equal(ask("vCont;r1,2"), "");
	assert_string_equal(ask("vCont"), "");
	assert_string_equal(ask("vCont;"), "E16");
}

static void test_detach_and_kill(void **state)
{
	(void)state;
	assert_string_equal(ask("D"), "OK");
	assert_int_equal(vireo.ops[0], CTL_OP_DBG_DETACH);
	assert_int_equal(vireo.ops[1], CTL_OP_VM_RESUME);
	assert_true(stub.over);
	vireo.nops = 0;
	gdb_stub_end(&stub);
	assert_int_equal(vireo.nops, 0);
	/* k: the VM ends (137: killed). */
	teardown(NULL);
	setup(NULL);
	send_packet("k");
	assert_int_equal(count_op(CTL_OP_DBG_DETACH), 1);
	assert_int_equal(vireo.stop_status, 137);
	assert_true(stub.over);
	/* A connection lost: detached, and the VM runs on. */
	teardown(NULL);
	setup(NULL);
	gdb_stub_end(&stub);
	assert_int_equal(vireo.ops[0], CTL_OP_DBG_DETACH);
	assert_int_equal(vireo.ops[1], CTL_OP_VM_RESUME);
	/* Start fails as Vireo says: no such VM, another debugger. */
	teardown(NULL);
	memset(&vireo, 0, sizeof(vireo));
	vireo.fail_op = CTL_OP_DBG_ATTACH;
	vireo.fail_rc = -16;
	assert_int_equal(gdb_stub_start(&stub, &backend, NULL, 1), -16);
	gdb_stub_free(&stub);
	vireo.fail_op = CTL_OP_VM_PAUSE;
	assert_int_equal(gdb_stub_start(&stub, &backend, NULL, 1), -16);
	assert_int_equal(count_op(CTL_OP_DBG_DETACH), 1);
	setup(NULL);
}

/* A VM that ends at once takes the link down before VM_RESUME's reply: its end is the
 * answer, not an error; with no end seen, the error it is. */
static void test_end_before_resume_reply(void **state)
{
	(void)state;
	vireo.fail_op = CTL_OP_VM_RESUME;
	vireo.fail_rc = -EPIPE;
	assert_string_equal(ask("vCont;c"), "E20");
	vireo.end_on_fail = true;
	assert_string_equal(ask("vCont;c"), "W00");
	assert_true(stub.over);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_breakpoints_and_continue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_end_before_resume_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detach_and_kill, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
