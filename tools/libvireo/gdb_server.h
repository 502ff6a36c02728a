/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A gdb server for one VM: a TCP port on the loopback (127.0.0.1 only) and a
 * thread that serves one debugger at a time with a gdb_stub, over a control
 * client (ctl_client.h). A second debugger that connects meanwhile is turned
 * away. When a debugger goes (detach, a closed connection, a broken one), the
 * VM is detached and runs on; the next one may connect.
 */
#ifndef VIREO_GDB_SERVER_H
#define VIREO_GDB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_client;
struct gdb_server;

/*
 * Listen on 127.0.0.1:port (0: a free port, see gdb_server_port) for VM vm
 * (its id: channel number, 1 for the first VM) and serve it. 0, or a negative
 * errno with a sentence in err.
 */
int gdb_server_start(struct gdb_server **out, struct ctl_client *cc, uint32_t vm, uint16_t port,
		     char *err, size_t err_size);
uint16_t gdb_server_port(const struct gdb_server *s);
/* Stop serving: a debugger still connected is detached first (if the link is up). */
void gdb_server_stop(struct gdb_server *s);
/*
 * The same in two halves, for a caller that itself serves the link (the machine's
 * daemon): gdb_server_end asks the thread to end without waiting (its requests
 * still need the link served), gdb_server_done says it has; then gdb_server_stop
 * does not block.
 */
void gdb_server_end(struct gdb_server *s);
bool gdb_server_done(struct gdb_server *s);

#endif
