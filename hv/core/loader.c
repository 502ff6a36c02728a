// SPDX-License-Identifier: BSD-2-Clause
/* Guest kernel loading; see vireo/loader.h. Never trusts a size or offset. */
#include <vireo/loader.h>
#include <vireo/string.h>
#include <vireo/vm_layout.h>

/* Linux Documentation/riscv/boot-image-header.rst */
#define LINUX_MAGIC_OFFSET  0x30 /* "RISCV\0\0\0", deprecated but still written */
#define LINUX_MAGIC2_OFFSET 0x38 /* "RSC\x05" */
#define LINUX_HEADER_SIZE   0x40
#define LINUX_ALIGN	    (2 * MIB) /* the kernel maps itself with 2 MiB pages */

#define ELF_HEADER_SIZE 64
#define ELF_PHDR_SIZE	56
#define EM_RISCV	243
#define ET_EXEC		2
#define PT_LOAD		1

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

const char *loader_kind_name(enum kernel_kind kind)
{
	switch (kind) {
	case KERNEL_LINUX_IMAGE:
		return "Linux Image";
	case KERNEL_ELF:
		return "ELF";
	default:
		return "flat binary";
	}
}

/* Is [gpa, gpa + len) inside guest RAM? */
static bool in_ram(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	return gpa >= ram->base && len <= ram->size && gpa - ram->base <= ram->size - len;
}

static bool looks_like_linux(const uint8_t *img, size_t size)
{
	return size >= LINUX_HEADER_SIZE && (memcmp(img + LINUX_MAGIC_OFFSET, "RISCV", 5) == 0 ||
					     memcmp(img + LINUX_MAGIC2_OFFSET, "RSC\x05", 4) == 0);
}

static int load_linux(const struct guest_ram *ram, const uint8_t *img, size_t size,
		      struct loaded_kernel *out, const char **why)
{
	uint64_t text_offset = get_u64(img + 0x08);
	uint64_t image_size = get_u64(img + 0x10);

	if (memcmp(img + LINUX_MAGIC2_OFFSET, "RSC\x05", 4) != 0) {
		*why = "bad Linux Image header: magic2 is not \"RSC\\x05\"";
		return -VIREO_EINVAL;
	}
	if (!IS_ALIGNED(ram->base + text_offset, LINUX_ALIGN)) {
		*why = "bad Linux Image header: text_offset does not put the kernel on a 2 MiB "
		       "boundary";
		return -VIREO_EINVAL;
	}
	if (image_size < size) {
		*why = "bad Linux Image header: image_size is smaller than the file";
		return -VIREO_EINVAL;
	}
	if (!in_ram(ram, ram->base + text_offset, image_size)) {
		*why = "Linux Image does not fit in the VM's RAM (text_offset + image_size)";
		return -VIREO_EINVAL;
	}
	guest_mem_write(ram->mem, ram->base + text_offset, img, size);
	out->kind = KERNEL_LINUX_IMAGE;
	out->entry = ram->base + text_offset;
	out->start = out->entry;
	out->end = out->entry + image_size;
	return 0;
}

static int check_elf_header(const uint8_t *img, size_t size, const char **why)
{
	if (size < ELF_HEADER_SIZE || img[4] != 2 /* ELFCLASS64 */ || img[5] != 1 /* LSB */) {
		*why = "ELF kernel is not a little-endian ELF64 file";
		return -VIREO_EINVAL;
	}
	if (get_u16(img + 18) != EM_RISCV || get_u16(img + 16) != ET_EXEC) {
		*why = "ELF kernel is not a RISC-V executable (e_machine/e_type)";
		return -VIREO_EINVAL;
	}
	uint64_t phoff = get_u64(img + 32);
	uint16_t phentsize = get_u16(img + 54), phnum = get_u16(img + 56);
	if (phentsize != ELF_PHDR_SIZE || phoff > size ||
	    (uint64_t)phnum * phentsize > size - phoff) {
		*why = "ELF kernel has its program headers outside the file";
		return -VIREO_EINVAL;
	}
	return 0;
}

static int load_elf_segment(const struct guest_ram *ram, const uint8_t *img, size_t size,
			    const uint8_t *ph, struct loaded_kernel *out, const char **why)
{
	uint64_t offset = get_u64(ph + 8), paddr = get_u64(ph + 24);
	uint64_t filesz = get_u64(ph + 32), memsz = get_u64(ph + 40);

	if (filesz > memsz) {
		*why = "ELF kernel has a segment with p_filesz > p_memsz";
		return -VIREO_EINVAL;
	}
	if (offset > size || filesz > size - offset) {
		*why = "ELF kernel has a segment outside the file";
		return -VIREO_EINVAL;
	}
	if (!in_ram(ram, paddr, memsz)) {
		*why = "ELF kernel has a segment outside the VM's RAM";
		return -VIREO_EINVAL;
	}
	if (filesz)
		guest_mem_write(ram->mem, paddr, img + offset, filesz);
	if (memsz > filesz)
		guest_mem_zero(ram->mem, paddr + filesz, memsz - filesz);
	out->start = MIN(out->start, paddr);
	out->end = MAX(out->end, paddr + memsz);
	return 0;
}

static int load_elf(const struct guest_ram *ram, const uint8_t *img, size_t size,
		    struct loaded_kernel *out, const char **why)
{
	int err = check_elf_header(img, size, why);
	uint64_t phoff = get_u64(img + 32);
	uint16_t phnum = get_u16(img + 56);
	bool loaded = false, entry_loaded = false;

	if (err)
		return err;
	out->kind = KERNEL_ELF;
	out->entry = get_u64(img + 24);
	out->start = UINT64_MAX;
	out->end = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * ELF_PHDR_SIZE;
		if (get_u32(ph) != PT_LOAD || get_u64(ph + 40) == 0)
			continue;
		err = load_elf_segment(ram, img, size, ph, out, why);
		if (err)
			return err;
		loaded = true;
		/* In this segment, not merely between the lowest and the highest one. */
		if (out->entry >= get_u64(ph + 24) &&
		    out->entry - get_u64(ph + 24) < get_u64(ph + 40))
			entry_loaded = true;
	}
	if (!loaded) {
		*why = "ELF kernel has no loadable segment";
		return -VIREO_EINVAL;
	}
	if (!entry_loaded) {
		*why = "ELF kernel's entry point is not in a loaded segment";
		return -VIREO_EINVAL;
	}
	return 0;
}

int loader_load_kernel(const struct guest_ram *ram, const void *image, size_t size,
		       struct loaded_kernel *out, const char **why)
{
	const uint8_t *img = image;

	if (size == 0) {
		*why = "kernel image is empty";
		return -VIREO_EINVAL;
	}
	if (looks_like_linux(img, size))
		return load_linux(ram, img, size, out, why);
	if (size >= 4 && memcmp(img,
				"\x7f"
				"ELF",
				4) == 0)
		return load_elf(ram, img, size, out, why);
	if (!in_ram(ram, ram->base + VM_KERNEL_OFFSET, size)) {
		*why = "kernel image does not fit in the VM's RAM";
		return -VIREO_EINVAL;
	}
	guest_mem_write(ram->mem, ram->base + VM_KERNEL_OFFSET, img, size);
	out->kind = KERNEL_FLAT;
	out->entry = ram->base + VM_KERNEL_OFFSET;
	out->start = out->entry;
	out->end = out->entry + size;
	return 0;
}
