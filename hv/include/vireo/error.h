/* SPDX-License-Identifier: BSD-2-Clause */
/* Vireo's error codes (VIREO_E*, negative on return) in words, for messages. */
#ifndef VIREO_ERROR_H
#define VIREO_ERROR_H

/* "out of memory" for -VIREO_ENOMEM (or VIREO_ENOMEM); never NULL. */
const char *vireo_strerror(int err);

#endif
