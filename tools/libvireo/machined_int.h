/* SPDX-License-Identifier: BSD-2-Clause */
/* The insides of a machine's daemon, shared by its files (machined.c: the loop, the
 * link, clients and VMs; machined_snap.c: snapshots and forks). See machined.h. */
#ifndef VIREO_MACHINED_INT_H
#define VIREO_MACHINED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <vireo/ctl.h>
#include <vireo/vx.h>

#include "machined.h"
#include "mproto.h"
#include "obuf.h"

#define LINK_OUT_CAP	 (1024 * 1024)
#define CLIENT_OUT_CAP	 (MP_MAX + VX_HDR_SIZE)
#define GRANT_BATCH	 (16 * 1024)
#define REQUEST_WAIT_MS	 30000
#define BOOT_WAIT_MS	 (180 * 1000)
#define DEFAULT_BOOTARGS "console=ttyS0 quiet vireo.exec"
#define DEFAULT_EXEC_MEM (256ULL << 20)
#define MAX_CLIENTS	 64
#define REPLY_CAP	 (VX_HDR_SIZE + 8 + CTL_REPLY_MAX)
#define CHANNELS	 32
#define STATUS_KILLED	 137
#define SPARE_DELAY_MS	 2000
#define SPARE_POLL_MS	 100

enum mvm_state { MVM_STOPPED, MVM_CREATED, MVM_RUNNING, MVM_PAUSED, MVM_TEMPLATE };
static const char *const state_names[] = {"stopped", "created", "running", "paused", "template"};
/* The state in an error: what it is, and what can be done with it. */
static const char *const state_phrases[] = {"stopped", "created, not started", "running", "paused",
					    "a template (it never runs again: fork it)"};
enum mvm_origin { ORIGIN_BOOT, ORIGIN_FORK, ORIGIN_RESTORE };
static const char *const origin_names[] = {"boot", "fork", "restore"};

struct client;
struct ctl_client;
struct gdb_server;

#define MD_GDB_MAX 16 /* gdb servers at once (a ctl_client's listeners) */

/* A gdb server for one VM (machined_gdb.c). */
struct md_gdb {
	struct gdb_server *srv;
	unsigned vm; /* its id */
	uint16_t port;
	bool ending; /* its VM ended: the thread is asked to end, then reaped */
};

/* A VM the daemon knows. */
struct mvm {
	char name[MACHINE_NAME_MAX];
	unsigned id; /* Vireo's (its channel); 0 when it is not alive */
	enum mvm_state state;
	enum mvm_origin origin;
	bool keep;  /* listed after it ends (made by vm-create, vm-restore, vm-fork) */
	bool exec;  /* made for one client's exec: gone with it */
	bool spare; /* booted ahead for an exec that asks for the defaults (machined_opts) */
	char *def;  /* a booted VM's definition, to make it again */
	uint64_t memory;
	unsigned vcpus;
	bool exited;
	int status;
	struct client *owner;
	uint8_t *hello; /* its agent's AG_HELLO frame, once it came */
	size_t hello_len;
	unsigned forks;	    /* forks of it alive (it is their template) */
	struct mvm *parent; /* a fork's template, while the daemon knows it */
	/* What it was made with (struct ctl_vm_create, blobs 0): what a snapshot says and
	 * a fork copies; cargs_set once known. */
	uint8_t cargs[CTL_VM_CREATE_SIZE];
	bool cargs_set;
	struct mvm *next;
};

/* One VM's channel on the link. */
struct chan {
	bool open;	  /* LINK_OPEN seen */
	uint32_t credit;  /* channel bytes we may still send Vireo */
	uint32_t granted; /* channel bytes Vireo may still send us */
	uint32_t owed;	  /* taken by a client, not yet granted again */
	struct obuf buf;  /* Vireo's bytes no client has taken yet (at most VX_WINDOW) */
	struct client *client;
	uint8_t *preface; /* what a client gets first (a fork's agent said hello already) */
	size_t preface_len, preface_at;
	/* Its VM ended before the reply that made it came (a short guest started at once):
	 * the VM_CREATE's caller takes the exit from here. */
	bool early_exit;
	int early_status;
};

struct client {
	int fd;
	bool dead;
	bool raw;	  /* the agent stream of channel `chan` */
	bool reading_eof; /* it closed its side */
	unsigned chan;
	struct obuf out; /* replies (before raw), or a VM's last bytes (after it ended) */
	uint8_t in[MP_MAX + VX_HDR_SIZE];
	size_t in_len;
	bool drain_close; /* raw, its VM ended: close once `out` is written */
	struct client *next;
};

/* A request to Vireo waiting for its reply. */
struct pending {
	uint32_t id;
	bool done;
	int result;
	uint8_t *data;
	size_t len;
};

/* An image in Vireo's memory, kept for the next VM that boots it. */
struct image {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint32_t blob;
	struct image *next;
};

struct daemon {
	const struct machined_opts *o;
	char *dir, *sock_path, *lock_path, *log_path;
	int lock_fd, listen_fd, link_fd, sig_fd, qemu_pidfd, ram_fd, log_fd;
	pid_t qemu;
	bool qemu_gone, stopping;
	int qemu_status;
	uint8_t *ram;	   /* the machine's RAM, mapped */
	uint64_t ram_size; /* bytes */
	uint64_t ram_base; /* its host-physical address */
	struct obuf link_out;
	struct vx_parser parser;
	bool hello_seen;
	char link_error[200];
	uint8_t reply_buf[REPLY_CAP];
	size_t reply_have;
	uint16_t reply_type;
	uint16_t reply_chan;
	uint32_t next_req;
	struct pending *waiting; /* the request being waited for (one at a time) */
	struct chan chans[CHANNELS];
	struct mvm *vms;
	struct client *clients;
	unsigned nclients;
	struct image *images;
	struct mvm *tmpl; /* the template exec forks, once it is ready */
	bool no_fork;	  /* Vireo cannot fork (ENOSYS): exec boots, no template is made */
	unsigned exec_seq, spare_seq;
	unsigned long long refill_at; /* when spares fell short (ms), 0 if they did not */
	char *kernel, *initramfs;     /* defaults, absolute */
	struct ctl_client *cc;	      /* the gdb servers' requests (machined_gdb.c) */
	struct md_gdb gdbs[MD_GDB_MAX];
};

/* Helpers (machined.c). */
void md_say(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct mvm *md_vm_by_name(struct daemon *d, const char *name);
struct mvm *md_vm_by_id(struct daemon *d, unsigned id);
struct mvm *md_vm_new(struct daemon *d, const char *name);
void md_vm_free(struct daemon *d, struct mvm *vm);
void md_vm_ended(struct daemon *d, struct mvm *vm, int status);
bool md_link_frame(struct daemon *d, uint16_t type, uint16_t chan, const void *p, size_t len);
void md_chan_reset(struct daemon *d, unsigned ch);
void md_chan_deliver(struct daemon *d, unsigned ch);
void md_pump(struct daemon *d, int timeout, bool requests);
int md_vreq(struct daemon *d, uint16_t op, const void *args, size_t len, uint8_t **data,
	    size_t *dlen, char *why, size_t why_size);
int md_vreq_vm(struct daemon *d, uint16_t op, unsigned id, char *why, size_t size);
void md_vm_destroy_async(struct daemon *d, unsigned id, int status);
uint8_t *md_ram_at(struct daemon *d, uint64_t hpa, uint64_t len);
int md_blob_alloc(struct daemon *d, uint64_t size, uint32_t *id, uint8_t **at, char *why,
		  size_t why_size);
void md_blob_free(struct daemon *d, uint32_t id);
void md_send_reply(struct client *cl, struct mp_msg *m);
void md_reply_error(struct client *cl, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void md_reply_ok(struct client *cl);
bool md_request_name(const char *text, size_t len, char *name, struct client *cl);
struct mvm *md_request_vm(struct daemon *d, const char *text, size_t len, struct client *cl);
void md_go_raw(struct daemon *d, struct client *cl, struct mvm *vm, bool replay_hello);
void md_wait_end(struct daemon *d, const char *name, unsigned id);
/* Vireo knows the VM no more: wait a moment for its exit, else forget it as ended. */
void md_forget_ended(struct daemon *d, const char *name, unsigned id, int status);

/* Snapshots and forks (machined_snap.c). */
void md_op_vm_snapshot(struct daemon *d, struct client *cl, const char *text, size_t len);
void md_op_vm_restore(struct daemon *d, struct client *cl, const char *text, size_t len);
void md_op_vm_fork(struct daemon *d, struct client *cl, const char *text, size_t len);
int md_fork_vm(struct daemon *d, struct mvm *tmpl, const char *name, bool start, uint64_t mem_limit,
	       char *why, size_t why_size);
/* Can Vireo fork at all? (An empty VM_FORK: anything but ENOSYS says yes.) */
bool md_can_fork(struct daemon *d);
unsigned long long md_now_ms(void);

/* gdb servers (machined_gdb.c). */
int md_gdb_init(struct daemon *d);
void md_gdb_fini(struct daemon *d);
/* A reply, event or VM's end from Vireo: handed to the servers. True if the reply
 * was theirs (the daemon's own requests do not see it). */
bool md_gdb_reply(struct daemon *d, uint16_t type, uint16_t chan, const uint8_t *p, size_t len);
/* Move the servers' waiting requests onto the link (each round of the loop). */
void md_gdb_pump(struct daemon *d);
void md_gdb_vm_ended(struct daemon *d, unsigned id);
/* Free the servers whose thread is done (each round of the main loop). */
bool md_gdb_reap(struct daemon *d); /* true: some are still ending */
void md_op_vm_gdb(struct daemon *d, struct client *cl, const char *text, size_t len);

#endif
