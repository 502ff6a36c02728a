// SPDX-License-Identifier: BSD-2-Clause
/* Checking a boot bundle before anything in it is used. */
#include <vireo/bundle.h>
#include <vireo/printf.h>
#include <vireo/string.h>

/* Each VM flag its own bit: two branches once gave two flags the same one. */
#define BUNDLE_VM_FLAGS_OR                                                                         \
	(BUNDLE_VM_TESTDEV | BUNDLE_VM_NO_CONSOLE | BUNDLE_VM_NO_RTC | BUNDLE_VM_NET |             \
	 BUNDLE_VM_IRQCHIP_PLIC | BUNDLE_VM_IRQCHIP_AIA | BUNDLE_VM_DEBUG_WAIT)
#define BUNDLE_VM_FLAGS_SUM                                                                        \
	(BUNDLE_VM_TESTDEV + BUNDLE_VM_NO_CONSOLE + BUNDLE_VM_NO_RTC + BUNDLE_VM_NET +             \
	 BUNDLE_VM_IRQCHIP_PLIC + BUNDLE_VM_IRQCHIP_AIA + BUNDLE_VM_DEBUG_WAIT)
_Static_assert(BUNDLE_VM_FLAGS_OR == BUNDLE_VM_FLAGS_SUM, "bundle VM flags share a bit");

#define MIN_VM_RAM (4 * MIB)
#define MAX_VCPUS  16

static int fail(char *why, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vireo_vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -VIREO_EINVAL;
}

static bool range_ok(uint64_t offset, uint64_t len, uint64_t total)
{
	return offset <= total && len <= total - offset;
}

static bool terminated(const char *s, size_t max)
{
	return memchr(s, '\0', max) != NULL;
}

/* A network card needs a network's name and a unicast MAC that is not all zeros. */
static int check_net(const struct bundle_vm *vm, char *why, size_t size)
{
	static const uint8_t zero[6];

	if (!(vm->flags & BUNDLE_VM_NET))
		return 0;
	if (!terminated(vm->net_name, sizeof(vm->net_name)) || vm->net_name[0] == '\0')
		return fail(why, size, "VM '%s': network name is empty or not terminated",
			    vm->name);
	if ((vm->mac[0] & 1) || memcmp(vm->mac, zero, sizeof(zero)) == 0)
		return fail(why, size, "VM '%s': MAC is not a unicast address", vm->name);
	return 0;
}

static int check_vm(const struct bundle *b, unsigned i, char *why, size_t size)
{
	const struct bundle_vm *vm = &b->vms[i];

	if (!terminated(vm->name, sizeof(vm->name)) || vm->name[0] == '\0')
		return fail(why, size, "VM %u: name is empty or not terminated", i);
	for (unsigned j = 0; j < i; j++)
		if (strcmp(b->vms[j].name, vm->name) == 0)
			return fail(why, size, "VM %u: name '%s' is used twice", i, vm->name);
	if (!terminated(vm->bootargs, sizeof(vm->bootargs)))
		return fail(why, size, "VM '%s': bootargs not terminated", vm->name);
	if (vm->vcpus == 0 || vm->vcpus > MAX_VCPUS)
		return fail(why, size, "VM '%s': %u vCPUs (1..%u allowed)", vm->name, vm->vcpus,
			    MAX_VCPUS);
	if (vm->ram_size < MIN_VM_RAM || !IS_ALIGNED(vm->ram_size, 2 * MIB))
		return fail(why, size, "VM '%s': RAM size %lu is not a multiple of 2 MiB >= 4 MiB",
			    vm->name, (unsigned long)vm->ram_size);
	if (vm->kernel_size == 0 || !range_ok(vm->kernel_offset, vm->kernel_size, b->size))
		return fail(why, size, "VM '%s': kernel is empty or outside the bundle", vm->name);
	if (vm->initrd_size && !range_ok(vm->initrd_offset, vm->initrd_size, b->size))
		return fail(why, size, "VM '%s': initrd is outside the bundle", vm->name);
	if (vm->rtc_offset > BUNDLE_RTC_OFFSET_MAX || vm->rtc_offset < -BUNDLE_RTC_OFFSET_MAX)
		return fail(why, size, "VM '%s': RTC offset %ld s is beyond +-%lld s", vm->name,
			    (long)vm->rtc_offset, BUNDLE_RTC_OFFSET_MAX);
	return check_net(vm, why, size);
}

int bundle_parse(const void *data, uint64_t size, struct bundle *out, char *why, size_t why_size)
{
	const struct bundle_header *h = data;

	if (size < sizeof(*h) || memcmp(h->magic, BUNDLE_MAGIC, 8) != 0)
		return fail(why, why_size, "not a Vireo boot bundle (bad magic)");
	if (h->version != BUNDLE_VERSION)
		return fail(why, why_size, "bundle version %u, this Vireo reads version %u",
			    h->version, BUNDLE_VERSION);
	if (h->total_size > size)
		return fail(why, why_size, "bundle truncated: %lu of %lu bytes",
			    (unsigned long)size, (unsigned long)h->total_size);
	if (h->vm_entry_size != sizeof(struct bundle_vm))
		return fail(why, why_size, "bundle VM entries are %u bytes, expected %zu",
			    h->vm_entry_size, sizeof(struct bundle_vm));
	if ((h->vm_count == 0 && !(h->flags & BUNDLE_MACHINE)) || h->vm_count > BUNDLE_MAX_VMS)
		return fail(why, why_size, "bundle has %u VMs (1..%u allowed)", h->vm_count,
			    BUNDLE_MAX_VMS);
	if (!range_ok(sizeof(*h), (uint64_t)h->vm_count * sizeof(struct bundle_vm), h->total_size))
		return fail(why, why_size, "bundle VM table is outside the bundle");
	out->base = data;
	out->size = h->total_size;
	out->header = h;
	out->vms = (const struct bundle_vm *)(out->base + sizeof(*h));
	for (unsigned i = 0; i < h->vm_count; i++) {
		int err = check_vm(out, i, why, why_size);
		if (err)
			return err;
	}
	return 0;
}
