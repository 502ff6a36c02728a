/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the host library and the guest agent agree on beyond the type numbers
 * of vireo/vx.h: the refinements of the agent protocol written down in
 * docs/channel.md ("Transfers", "Ends of streams"). Shared by
 * tools/libvireo (host) and guests/linux/userland (agent).
 */
#ifndef VIREO_AGENT_PROTO_H
#define VIREO_AGENT_PROTO_H

#include <vireo/vx.h>

#define AG_NSTREAMS 5 /* 0 control, 1 stdin, 2 stdout, 3 stderr, 4 file */

/* AG_GET flags: AG_FLAG_TAR (1) always a tar stream; AG_FLAG_AUTO: tar if a directory. */
#define AG_FLAG_AUTO 2u

/* The name of the agent's virtio-serial port. */
#define AG_PORT_NAME "org.vireo.agent"

/* Largest data frame either side sends: a quarter of a window keeps four in flight. */
#define AG_CHUNK (32 * 1024 - VX_HDR_SIZE)

/* AG_EXIT's `how`. */
enum { AG_EXITED = 0, AG_KILLED = 1 };

#endif
