// SPDX-License-Identifier: BSD-2-Clause
/* Error codes in words. */
#include <vireo/error.h>
#include <vireo/types.h>

const char *vireo_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case VIREO_OK:
		return "no error";
	case VIREO_EINVAL:
		return "invalid argument or configuration";
	case VIREO_ENOMEM:
		return "out of memory";
	case VIREO_EFAULT:
		return "bad address";
	case VIREO_ENOENT:
		return "not found";
	case VIREO_EBUSY:
		return "busy";
	case VIREO_ERANGE:
		return "out of range";
	case VIREO_ENOSYS:
		return "not supported";
	case VIREO_EEXIST:
		return "already exists";
	case VIREO_EIO:
		return "the device failed";
	default:
		return "unknown error";
	}
}
