// SPDX-License-Identifier: BSD-2-Clause
/* Per-VM boot seeds from one host secret, with HKDF-SHA-256 (see vm_seed.h). */
#include <libfdt.h>
#include <vireo/entropy.h>
#include <vireo/hkdf.h>
#include <vireo/log.h>
#include <vireo/string.h>
#include <vireo/vm_seed.h>

#define SALT	      "vireo boot seed v1"
#define LABEL	      "vireo guest seeds v1"
#define ENTROPY_BYTES 256 /* raw seed-CSR output: 2048 bits in, 256 out */

static uint8_t prk[SHA256_DIGEST_SIZE];
static bool have_key;
static uint64_t seeds_given; /* the counter that makes every derivation unique */

static void take_key(const void *ikm, size_t len)
{
	hkdf_sha256_extract(SALT, sizeof(SALT) - 1, ikm, len, prk);
	have_key = true;
}

/* The host's seed: condensed into the key, then overwritten with NOP tags in the DTB. */
static bool from_host_seed(void *fdt, struct platform *plat)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	size_t len = plat->rng_seed_len;

	if (!plat->rng_seed || chosen < 0)
		return false;
	take_key(plat->rng_seed, len);
	if (fdt_nop_property(fdt, chosen, "rng-seed") != 0)
		secure_wipe((void *)(uintptr_t)plat->rng_seed, len); /* at least the bytes */
	plat->rng_seed = NULL;
	plat->rng_seed_len = 0;
	log_info("boot seeds: from the host's /chosen/rng-seed (%u bytes)", (unsigned)len);
	return true;
}

static bool from_entropy_source(void)
{
	uint8_t raw[ENTROPY_BYTES];
	bool ok = entropy_raw(raw, sizeof(raw));

	if (ok) {
		take_key(raw, sizeof(raw));
		log_info("boot seeds: from the hart's entropy source (Zkr seed CSR)");
	}
	secure_wipe(raw, sizeof(raw));
	return ok;
}

void vm_seed_init(void *fdt, struct platform *plat)
{
	/* A key from before (there is none at boot) never outlives a new start. */
	secure_wipe(prk, sizeof(prk));
	have_key = false;
	if (from_host_seed(fdt, plat) || from_entropy_source())
		return;
	log_warn("no boot seed (no /chosen/rng-seed, no Zkr seed CSR): guests get none");
}

static size_t put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return bytes;
}

bool vm_seed_derive(const char *vm_name, unsigned vmid, struct vm_seeds *out)
{
	uint8_t info[sizeof(LABEL) - 1 + 8 + 4 + 32];
	size_t n = sizeof(LABEL) - 1, name_len = strnlen(vm_name, 32);

	memset(out, 0, sizeof(*out));
	if (!have_key)
		return false;
	memcpy(info, LABEL, n);
	n += put_le(info + n, __atomic_fetch_add(&seeds_given, 1, __ATOMIC_RELAXED), 8);
	n += put_le(info + n, vmid, 4);
	memcpy(info + n, vm_name, name_len);
	n += name_len;
	/* One expansion, cut in two: the halves are as independent as two expansions. */
	return hkdf_sha256_expand(prk, info, n, out, sizeof(*out)) == 0;
}
