// SPDX-License-Identifier: BSD-2-Clause
/* Blobs: bytes handed between the host program and Vireo; see vireo/blob.h. */
#include <vireo/blob.h>
#include <vireo/log.h>
#include <vireo/mm.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/vm_mem.h>

static spinlock_t blob_lock = SPINLOCK_INIT;
static struct blob *blobs[BLOB_MAX + 1]; /* by id; [0] unused */

struct blob *blob_alloc(uint64_t size, int *err)
{
	struct blob *b;
	unsigned id = 0;
	uint64_t pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;

	if (size == 0 || size > BLOB_SIZE_MAX) {
		*err = -VIREO_EINVAL;
		return NULL;
	}
	b = kzalloc(sizeof(*b));
	if (!b) {
		*err = -VIREO_ENOMEM;
		return NULL;
	}
	b->size = size;
	b->pages = pages;
	b->refs = 1;
	b->host_holds = true;
	/* The machine's memory promised to VMs is not the host's to take. */
	if (vm_mem_charge(pages * PAGE_SIZE)) {
		kfree(b);
		*err = -VIREO_ENOMEM;
		return NULL;
	}
	b->charged = pages * PAGE_SIZE;
	b->data = page_alloc(pages, PAGE_SIZE);
	if (!b->data) {
		vm_mem_release(b->charged);
		kfree(b);
		*err = -VIREO_ENOMEM;
		return NULL;
	}
	spin_lock(&blob_lock);
	for (unsigned i = 1; i <= BLOB_MAX && !id; i++)
		if (!blobs[i])
			id = i;
	if (id) {
		b->id = id;
		blobs[id] = b;
	}
	spin_unlock(&blob_lock);
	if (!id) {
		page_free(b->data, pages);
		vm_mem_release(b->charged);
		kfree(b);
		*err = -VIREO_EBUSY;
		return NULL;
	}
	return b;
}

struct blob *blob_find(unsigned id)
{
	struct blob *b = NULL;

	spin_lock(&blob_lock);
	if (id && id <= BLOB_MAX && blobs[id] && blobs[id]->host_holds) {
		b = blobs[id];
		b->refs++;
	}
	spin_unlock(&blob_lock);
	return b;
}

void blob_get(struct blob *b)
{
	if (!b)
		return;
	spin_lock(&blob_lock);
	b->refs++;
	spin_unlock(&blob_lock);
}

void blob_put(struct blob *b)
{
	bool last;

	if (!b)
		return;
	spin_lock(&blob_lock);
	last = --b->refs == 0;
	if (last)
		blobs[b->id] = NULL;
	spin_unlock(&blob_lock);
	if (!last)
		return;
	page_free(b->data, b->pages);
	vm_mem_release(b->charged);
	kfree(b);
}

int blob_release(unsigned id)
{
	struct blob *b = NULL;

	spin_lock(&blob_lock);
	if (id && id <= BLOB_MAX && blobs[id] && blobs[id]->host_holds) {
		b = blobs[id];
		b->host_holds = false;
	}
	spin_unlock(&blob_lock);
	if (!b)
		return -VIREO_ENOENT;
	blob_put(b);
	return 0;
}

unsigned blob_count(void)
{
	unsigned n = 0;

	spin_lock(&blob_lock);
	for (unsigned i = 1; i <= BLOB_MAX; i++)
		n += blobs[i] != NULL;
	spin_unlock(&blob_lock);
	return n;
}

uint64_t blob_bytes(void)
{
	uint64_t n = 0;

	spin_lock(&blob_lock);
	for (unsigned i = 1; i <= BLOB_MAX; i++)
		if (blobs[i])
			n += blobs[i]->pages * PAGE_SIZE;
	spin_unlock(&blob_lock);
	return n;
}
