// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of guest kernel loading (hv/core/loader.c).
 *
 * Guest RAM is a host buffer with guard zones on both sides, filled with a
 * pattern before each load, so that every byte the loader writes (and every
 * byte it must not write) can be checked. Linux Images and ELF files are
 * written byte by byte here, after Linux's boot-image-header.rst and the
 * ELF64 specification.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vireo/loader.h>
#include <vireo/vm_layout.h>

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (16 * MIB)
#define GUARD	 (64 * KIB)
#define PATTERN	 0xa5

struct fixture {
	uint8_t *buf;  /* GUARD + RAM_SIZE + GUARD */
	uint8_t *host; /* guest RAM in it */
	struct guest_mem mem;
	struct guest_ram ram;
	uint8_t *image;
	size_t image_cap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->buf = malloc(GUARD + RAM_SIZE + GUARD);
	f->image_cap = RAM_SIZE;
	f->image = calloc(1, f->image_cap);
	if (!f->buf || !f->image) {
		free(f->buf);
		free(f->image);
		free(f);
		return -1;
	}
	memset(f->buf, PATTERN, GUARD + RAM_SIZE + GUARD);
	f->host = f->buf + GUARD;
	f->mem = (struct guest_mem){0};
	guest_mem_add_run(&f->mem, RAM_BASE, RAM_SIZE, f->host);
	f->ram.mem = &f->mem;
	f->ram.base = RAM_BASE;
	f->ram.size = RAM_SIZE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->buf);
	free(f->image);
	free(f);
	return 0;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Recognisable, position-dependent contents that never look like a header. */
static uint8_t fill_byte(size_t i)
{
	return (uint8_t)(0x11 + i * 7 + (i >> 8));
}

static void fill_payload(uint8_t *p, size_t len, size_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = fill_byte(seed + i);
}

/* Is the whole buffer (guards included) the pattern outside [ram_off, ram_off + len)? */
static void check_pattern_outside(const struct fixture *f, uint64_t ram_off, uint64_t len)
{
	const uint8_t *b = f->buf;
	uint64_t lo = GUARD + ram_off, hi = GUARD + ram_off + len;

	for (uint64_t i = 0; i < GUARD + RAM_SIZE + GUARD; i++) {
		if (i >= lo && i < hi)
			continue;
		if (b[i] != PATTERN)
			fail_msg("byte %#llx of RAM (%lld from its start) was written",
				 (unsigned long long)i, (long long)i - GUARD);
	}
}

static void check_untouched(const struct fixture *f)
{
	check_pattern_outside(f, 0, 0);
}

static void expect_refusal(struct fixture *f, size_t size, const char *substring)
{
	struct loaded_kernel k;
	const char *why = NULL;

	memset(&k, 0, sizeof(k));
	assert_int_equal(loader_load_kernel(&f->ram, f->image, size, &k, &why), -VIREO_EINVAL);
	assert_non_null(why);
	if (!strstr(why, substring))
		fail_msg("refusal '%s' does not mention '%s'", why, substring);
}

/* ---------------------------------------------------------------- Linux Image */

#define LINUX_FILE_SIZE 0x2345

static void make_linux(struct fixture *f, uint64_t text_offset, uint64_t image_size)
{
	uint8_t *h = f->image;

	fill_payload(h, LINUX_FILE_SIZE, 0);
	put_u32(h + 0, 0x5a4d0073);  /* code0: c.li s4,-13 ("MZ"), as Linux writes it */
	put_u32(h + 4, 0x0400006f);  /* code1: j to the real entry */
	put_u64(h + 8, text_offset); /* little endian */
	put_u64(h + 16, image_size);
	put_u64(h + 24, 0); /* flags: little endian kernel */
	put_u32(h + 32, 0x00000002);
	put_u32(h + 36, 0);
	put_u64(h + 40, 0);
	memcpy(h + 48, "RISCV\0\0\0", 8);
	memcpy(h + 56, "RSC\x05", 4);
	put_u32(h + 60, 0);
}

static void test_linux_good(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;

	make_linux(f, 0x200000, 0xa00000);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, LINUX_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.kind, KERNEL_LINUX_IMAGE);
	assert_int_equal(k.entry, RAM_BASE + 0x200000);
	assert_int_equal(k.start, RAM_BASE + 0x200000);
	assert_int_equal(k.end, RAM_BASE + 0x200000 + 0xa00000);
	assert_memory_equal(f->host + 0x200000, f->image, LINUX_FILE_SIZE);
	/* Only the file is written, not the rest of image_size (the kernel clears its bss). */
	check_pattern_outside(f, 0x200000, LINUX_FILE_SIZE);
	assert_string_equal(loader_kind_name(k.kind), "Linux Image");
}

/* text_offset 0 and a kernel that ends exactly at the end of RAM. */
static void test_linux_edges(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;

	make_linux(f, 0, LINUX_FILE_SIZE);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, LINUX_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.entry, RAM_BASE);
	assert_int_equal(k.start, RAM_BASE);
	assert_int_equal(k.end, RAM_BASE + LINUX_FILE_SIZE);
	assert_memory_equal(f->host, f->image, LINUX_FILE_SIZE);
	check_pattern_outside(f, 0, LINUX_FILE_SIZE);

	memset(f->buf, PATTERN, GUARD + RAM_SIZE + GUARD);
	make_linux(f, RAM_SIZE - 2 * MIB, 2 * MIB);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, LINUX_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.entry, RAM_BASE + RAM_SIZE - 2 * MIB);
	assert_int_equal(k.end, RAM_BASE + RAM_SIZE);
	assert_memory_equal(f->host + RAM_SIZE - 2 * MIB, f->image, LINUX_FILE_SIZE);
	check_pattern_outside(f, RAM_SIZE - 2 * MIB, LINUX_FILE_SIZE);

	/* Only the 64-byte header: still an Image. */
	memset(f->buf, PATTERN, GUARD + RAM_SIZE + GUARD);
	make_linux(f, 0x400000, 0x1000);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, 64, &k, &why), 0);
	assert_int_equal(k.kind, KERNEL_LINUX_IMAGE);
	assert_int_equal(k.entry, RAM_BASE + 0x400000);
	check_pattern_outside(f, 0x400000, 64);
}

/* The deprecated "RISCV" magic may be missing: magic2 alone is enough. */
static void test_linux_magic2_only(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;

	make_linux(f, 0x200000, 0x200000);
	memset(f->image + 48, 0, 8);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, LINUX_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.kind, KERNEL_LINUX_IMAGE);
	assert_int_equal(k.entry, RAM_BASE + 0x200000);
}

static void test_linux_refusals(void **state)
{
	struct fixture *f = *state;

	make_linux(f, 0x200000, 0x400000);
	memcpy(f->image + 56, "RSC\x04", 4);
	expect_refusal(f, LINUX_FILE_SIZE, "magic2");
	check_untouched(f);

	make_linux(f, 0x100000, 0x400000);
	expect_refusal(f, LINUX_FILE_SIZE, "2 MiB");
	make_linux(f, 0x200001, 0x400000);
	expect_refusal(f, LINUX_FILE_SIZE, "2 MiB");
	check_untouched(f);

	make_linux(f, 0x200000, LINUX_FILE_SIZE - 1);
	expect_refusal(f, LINUX_FILE_SIZE, "image_size");
	make_linux(f, 0x200000, 0);
	expect_refusal(f, LINUX_FILE_SIZE, "image_size");
	check_untouched(f);

	/* Too big: 2 MiB + 14 MiB + 1 byte, or starting at the end of RAM. */
	make_linux(f, 0x200000, RAM_SIZE - 2 * MIB + 1);
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	make_linux(f, RAM_SIZE, LINUX_FILE_SIZE);
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	make_linux(f, 0x200000, ~0ULL);
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	/* text_offset that wraps base + text_offset around (and stays 2 MiB aligned). */
	make_linux(f, 0xffffffffffe00000ULL, 0x200000);
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	make_linux(f, 0x10000000000000ULL, 0x200000);
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	make_linux(f, 0xffffffff80000000ULL, 0x200000); /* base + text_offset == 0 */
	expect_refusal(f, LINUX_FILE_SIZE, "RAM");
	check_untouched(f);
}

/* ---------------------------------------------------------------- ELF */

#define ELF_FILE_SIZE 0x2400
#define TEXT_OFF      0x1000
#define TEXT_SIZE     0x800
#define TEXT_PADDR    (RAM_BASE + 0x200000)
#define DATA_OFF      0x2000
#define DATA_FILESZ   0x400
#define DATA_MEMSZ    0x3000
#define DATA_PADDR    (RAM_BASE + 0x400000)
#define ELF_ENTRY     (TEXT_PADDR + 0x10)
#define PH(i)	      (64 + 56 * (i))

static void put_phdr(uint8_t *img, unsigned i, uint32_t type, uint32_t flags, uint64_t offset,
		     uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	uint8_t *ph = img + PH(i);

	put_u32(ph + 0, type);
	put_u32(ph + 4, flags);
	put_u64(ph + 8, offset);
	put_u64(ph + 16, 0xffffffff00000000ULL + paddr); /* p_vaddr: never used */
	put_u64(ph + 24, paddr);
	put_u64(ph + 32, filesz);
	put_u64(ph + 40, memsz);
	put_u64(ph + 48, 0x1000);
}

/*
 * An executable with 4 program headers: text (PT_LOAD), a PT_NOTE whose
 * "addresses" are nonsense, data + bss (PT_LOAD), and an empty PT_LOAD
 * (memsz 0) outside RAM that must be skipped.
 */
static void make_elf(struct fixture *f)
{
	uint8_t *e = f->image;

	memset(e, 0, ELF_FILE_SIZE);
	fill_payload(e + TEXT_OFF, TEXT_SIZE, 1000);
	fill_payload(e + DATA_OFF, DATA_FILESZ, 5000);
	memcpy(e,
	       "\x7f"
	       "ELF",
	       4);
	e[4] = 2;	      /* ELFCLASS64 */
	e[5] = 1;	      /* ELFDATA2LSB */
	e[6] = 1;	      /* EV_CURRENT */
	put_u16(e + 16, 2);   /* ET_EXEC */
	put_u16(e + 18, 243); /* EM_RISCV */
	put_u32(e + 20, 1);
	put_u64(e + 24, ELF_ENTRY);
	put_u64(e + 32, 64); /* e_phoff */
	put_u64(e + 40, 0);  /* e_shoff */
	put_u32(e + 48, 0x5);
	put_u16(e + 52, 64); /* e_ehsize */
	put_u16(e + 54, 56); /* e_phentsize */
	put_u16(e + 56, 4);  /* e_phnum */
	put_u16(e + 58, 64);
	put_u16(e + 60, 0);
	put_u16(e + 62, 0);
	put_phdr(e, 0, 1, 5, TEXT_OFF, TEXT_PADDR, TEXT_SIZE, TEXT_SIZE);
	put_phdr(e, 1, 4, 4, 0x100, 0x12345, 0x10, 0x10);
	put_phdr(e, 2, 1, 6, DATA_OFF, DATA_PADDR, DATA_FILESZ, DATA_MEMSZ);
	put_phdr(e, 3, 1, 6, 0, 0x1000, 0, 0);
}

static void check_elf_loaded(const struct fixture *f, const struct loaded_kernel *k)
{
	const uint8_t *ram = f->host;
	const uint8_t *text = ram + (TEXT_PADDR - RAM_BASE);
	const uint8_t *data = ram + (DATA_PADDR - RAM_BASE);

	assert_int_equal(k->kind, KERNEL_ELF);
	assert_int_equal(k->entry, ELF_ENTRY);
	assert_int_equal(k->start, TEXT_PADDR);
	assert_int_equal(k->end, DATA_PADDR + DATA_MEMSZ);
	assert_memory_equal(text, f->image + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(data, f->image + DATA_OFF, DATA_FILESZ);
	for (size_t i = DATA_FILESZ; i < DATA_MEMSZ; i++)
		assert_int_equal(data[i], 0); /* bss */
	/* Nothing else: the pattern between and around the segments survives. */
	for (uint64_t i = 0; i < RAM_SIZE; i++) {
		uint64_t gpa = RAM_BASE + i;

		if ((gpa >= TEXT_PADDR && gpa < TEXT_PADDR + TEXT_SIZE) ||
		    (gpa >= DATA_PADDR && gpa < DATA_PADDR + DATA_MEMSZ))
			continue;
		if (ram[i] != PATTERN)
			fail_msg("RAM offset %#llx written", (unsigned long long)i);
	}
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(f->buf[i], PATTERN);
		assert_int_equal(f->buf[GUARD + RAM_SIZE + i], PATTERN);
	}
}

static void test_elf_good(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;

	make_elf(f);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, ELF_FILE_SIZE, &k, &why), 0);
	check_elf_loaded(f, &k);
	assert_string_equal(loader_kind_name(k.kind), "ELF");
}

/* The entry may be anywhere in a segment, also in the bss; segments may touch RAM's ends. */
static void test_elf_edges(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;

	make_elf(f);
	put_u64(f->image + 24, DATA_PADDR + DATA_MEMSZ - 1);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, ELF_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.entry, DATA_PADDR + DATA_MEMSZ - 1);

	make_elf(f);
	put_u64(f->image + 24, RAM_BASE);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, RAM_BASE, TEXT_SIZE, TEXT_SIZE);
	put_phdr(f->image, 2, 1, 6, DATA_OFF, RAM_BASE + RAM_SIZE - DATA_MEMSZ, DATA_FILESZ,
		 DATA_MEMSZ);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, ELF_FILE_SIZE, &k, &why), 0);
	assert_int_equal(k.start, RAM_BASE);
	assert_int_equal(k.end, RAM_BASE + RAM_SIZE);
	assert_memory_equal(f->host, f->image + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(f->host + RAM_SIZE - DATA_MEMSZ, f->image + DATA_OFF, DATA_FILESZ);
	for (size_t i = 0; i < GUARD; i++)
		assert_int_equal(f->buf[GUARD + RAM_SIZE + i], PATTERN);

	/* A segment that ends exactly at the end of the file. */
	make_elf(f);
	put_phdr(f->image, 2, 1, 6, DATA_OFF, DATA_PADDR, ELF_FILE_SIZE - DATA_OFF, DATA_MEMSZ);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, ELF_FILE_SIZE, &k, &why), 0);
}

static void test_elf_header_refusals(void **state)
{
	struct fixture *f = *state;

	make_elf(f);
	f->image[4] = 1; /* ELFCLASS32 */
	expect_refusal(f, ELF_FILE_SIZE, "ELF64");
	make_elf(f);
	f->image[5] = 2; /* big endian */
	expect_refusal(f, ELF_FILE_SIZE, "little-endian");
	make_elf(f);
	expect_refusal(f, 63, "ELF64"); /* shorter than an ELF header */
	make_elf(f);
	put_u16(f->image + 18, 62); /* EM_X86_64 */
	expect_refusal(f, ELF_FILE_SIZE, "RISC-V");
	make_elf(f);
	put_u16(f->image + 16, 3); /* ET_DYN */
	expect_refusal(f, ELF_FILE_SIZE, "e_type");
	make_elf(f);
	put_u16(f->image + 16, 1); /* ET_REL */
	expect_refusal(f, ELF_FILE_SIZE, "executable");
	check_untouched(f);
}

static void test_elf_phdr_refusals(void **state)
{
	struct fixture *f = *state;

	make_elf(f);
	put_u64(f->image + 32, ELF_FILE_SIZE - 56 * 4 + 1); /* the last phdr sticks out */
	expect_refusal(f, ELF_FILE_SIZE, "program headers");
	make_elf(f);
	put_u64(f->image + 32, ELF_FILE_SIZE + 8);
	expect_refusal(f, ELF_FILE_SIZE, "program headers");
	make_elf(f);
	put_u64(f->image + 32, ~0ULL - 8); /* phoff + phnum * 56 wraps */
	expect_refusal(f, ELF_FILE_SIZE, "program headers");
	make_elf(f);
	put_u16(f->image + 56, 0xffff);
	expect_refusal(f, ELF_FILE_SIZE, "program headers");
	make_elf(f);
	put_u16(f->image + 54, 32); /* e_phentsize not that of ELF64 */
	expect_refusal(f, ELF_FILE_SIZE, "program headers");
	check_untouched(f);
}

static void test_elf_segment_refusals(void **state)
{
	struct fixture *f = *state;

	/* Outside the file. */
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, ELF_FILE_SIZE - 0x10, TEXT_PADDR, 0x11, 0x100);
	expect_refusal(f, ELF_FILE_SIZE, "outside the file");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, ELF_FILE_SIZE + 1, TEXT_PADDR, 0, 0x100);
	expect_refusal(f, ELF_FILE_SIZE, "outside the file");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, ~0ULL - 1, TEXT_PADDR, 0x10, 0x100); /* offset + filesz wraps */
	expect_refusal(f, ELF_FILE_SIZE, "outside the file");
	check_untouched(f);

	/* Outside RAM: below, past the end, wrapping around. */
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, RAM_BASE - 0x1000, TEXT_SIZE, TEXT_SIZE);
	expect_refusal(f, ELF_FILE_SIZE, "RAM");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, RAM_BASE + RAM_SIZE - 0x7ff, TEXT_SIZE, TEXT_SIZE);
	expect_refusal(f, ELF_FILE_SIZE, "RAM");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, TEXT_PADDR, TEXT_SIZE, RAM_SIZE);
	expect_refusal(f, ELF_FILE_SIZE, "RAM");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, ~0ULL - 0xff, TEXT_SIZE, TEXT_SIZE);
	expect_refusal(f, ELF_FILE_SIZE, "RAM");
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, TEXT_PADDR, TEXT_SIZE, ~0ULL);
	expect_refusal(f, ELF_FILE_SIZE, "RAM");
	check_untouched(f);

	/* p_filesz > p_memsz. */
	make_elf(f);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, TEXT_PADDR, TEXT_SIZE, TEXT_SIZE - 1);
	expect_refusal(f, ELF_FILE_SIZE, "p_filesz");
	check_untouched(f);
}

static void test_elf_entry_and_load_refusals(void **state)
{
	struct fixture *f = *state;

	/* Entry before, after and between the segments. */
	make_elf(f);
	put_u64(f->image + 24, TEXT_PADDR - 4);
	expect_refusal(f, ELF_FILE_SIZE, "entry");
	make_elf(f);
	put_u64(f->image + 24, DATA_PADDR + DATA_MEMSZ);
	expect_refusal(f, ELF_FILE_SIZE, "entry");
	make_elf(f);
	put_u64(f->image + 24, TEXT_PADDR + TEXT_SIZE);
	expect_refusal(f, ELF_FILE_SIZE, "entry");
	make_elf(f);
	put_u64(f->image + 24, 0);
	expect_refusal(f, ELF_FILE_SIZE, "entry");

	/* No PT_LOAD at all, none with memory, or no program header. */
	make_elf(f);
	put_u32(f->image + PH(0), 4);
	put_u32(f->image + PH(2), 0x6474e551); /* PT_GNU_STACK */
	expect_refusal(f, ELF_FILE_SIZE, "no loadable segment");
	make_elf(f);
	put_u16(f->image + 56, 1);
	put_phdr(f->image, 0, 1, 5, TEXT_OFF, TEXT_PADDR, 0, 0);
	expect_refusal(f, ELF_FILE_SIZE, "no loadable segment");
	make_elf(f);
	put_u16(f->image + 56, 0);
	expect_refusal(f, ELF_FILE_SIZE, "no loadable segment");
}

/* ---------------------------------------------------------------- flat and empty */

static void test_flat(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;
	const size_t size = 0x3001;

	fill_payload(f->image, size, 77);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, size, &k, &why), 0);
	assert_int_equal(k.kind, KERNEL_FLAT);
	assert_int_equal(k.entry, RAM_BASE + 2 * MIB);
	assert_int_equal(k.start, RAM_BASE + 2 * MIB);
	assert_int_equal(k.end, RAM_BASE + 2 * MIB + size);
	assert_int_equal(VM_KERNEL_OFFSET, 2 * MIB);
	assert_memory_equal(f->host + 2 * MIB, f->image, size);
	check_pattern_outside(f, 2 * MIB, size);
	assert_string_equal(loader_kind_name(k.kind), "flat binary");
}

/* Guest RAM in two runs of host memory, far apart: an image that straddles the
 * boundary lands in both, byte for byte. */
static void test_flat_across_runs(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;
	const size_t size = 0x3000;
	const uint64_t split = 2 * MIB + 0x1000; /* the first run ends 4 KiB into the image */
	uint8_t *second = f->host + RAM_SIZE / 2;

	f->mem = (struct guest_mem){0};
	assert_int_equal(guest_mem_add_run(&f->mem, RAM_BASE, split, f->host), 0);
	assert_int_equal(guest_mem_add_run(&f->mem, RAM_BASE + split, RAM_SIZE / 2, second), 0);
	f->ram.size = split + RAM_SIZE / 2;
	fill_payload(f->image, size, 78);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, size, &k, &why), 0);
	assert_memory_equal(f->host + 2 * MIB, f->image, 0x1000);
	assert_memory_equal(second, f->image + 0x1000, size - 0x1000);
}

/* Tiny images: one instruction, and things that start like a header but are too short. */
static void test_flat_small(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} cases[] = {
	    {"\x13\x00\x00\x00", 4}, /* nop */
	    {"\x7f"
	     "EL",
	     3},
	    {"RISCV", 5},
	    {"\x01", 1},
	};
	struct fixture *f = *state;

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct loaded_kernel k;
		const char *why = NULL;

		memset(f->buf, PATTERN, GUARD + RAM_SIZE + GUARD);
		memcpy(f->image, cases[i].bytes, cases[i].len);
		assert_int_equal(loader_load_kernel(&f->ram, f->image, cases[i].len, &k, &why), 0);
		assert_int_equal(k.kind, KERNEL_FLAT);
		assert_int_equal(k.end - k.start, cases[i].len);
		assert_memory_equal(f->host + 2 * MIB, cases[i].bytes, cases[i].len);
		check_pattern_outside(f, 2 * MIB, cases[i].len);
	}
}

static void test_flat_fits_exactly_and_too_big(void **state)
{
	struct fixture *f = *state;
	struct loaded_kernel k;
	const char *why = NULL;
	const size_t room = RAM_SIZE - 2 * MIB;

	fill_payload(f->image, room + 1, 3);
	assert_int_equal(loader_load_kernel(&f->ram, f->image, room, &k, &why), 0);
	assert_int_equal(k.end, RAM_BASE + RAM_SIZE);
	assert_memory_equal(f->host + 2 * MIB, f->image, room);
	check_pattern_outside(f, 2 * MIB, room);

	memset(f->buf, PATTERN, GUARD + RAM_SIZE + GUARD);
	expect_refusal(f, room + 1, "fit");
	check_untouched(f);

	/* RAM smaller than the 2 MiB offset. */
	f->ram.size = 2 * MIB;
	expect_refusal(f, 1, "fit");
	f->ram.size = 1 * MIB;
	expect_refusal(f, 1, "fit");
	check_untouched(f);
}

static void test_empty(void **state)
{
	struct fixture *f = *state;

	expect_refusal(f, 0, "empty");
	check_untouched(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_linux_good),
	    T(test_linux_edges),
	    T(test_linux_magic2_only),
	    T(test_linux_refusals),
	    T(test_elf_good),
	    T(test_elf_edges),
	    T(test_elf_header_refusals),
	    T(test_elf_phdr_refusals),
	    T(test_elf_segment_refusals),
	    T(test_elf_entry_and_load_refusals),
	    T(test_flat),
	    T(test_flat_across_runs),
	    T(test_flat_small),
	    T(test_flat_fits_exactly_and_too_big),
	    T(test_empty),
	};
#undef T

	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
