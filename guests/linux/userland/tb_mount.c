// SPDX-License-Identifier: BSD-2-Clause
/* mount [-t TYPE] [-o OPTS] DEVICE DIR; mount with no operands lists mounts; umount. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "toolbox.h"

struct mount_flag {
	const char *name;
	unsigned long set;
	unsigned long clear;
};

/* Options that are mount(2) flags; anything else goes to the file system as data. */
static const struct mount_flag mount_flags[] = {
    {"ro", MS_RDONLY, 0},	  {"rw", 0, MS_RDONLY},		{"remount", MS_REMOUNT, 0},
    {"nosuid", MS_NOSUID, 0},	  {"suid", 0, MS_NOSUID},	{"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},	  {"noexec", MS_NOEXEC, 0},	{"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},  {"async", 0, MS_SYNCHRONOUS}, {"noatime", MS_NOATIME, 0},
    {"relatime", MS_RELATIME, 0}, {"bind", MS_BIND, 0},		{"defaults", 0, 0},
};

/* Splits "ro,noatime,size=1m" into flags and a data string ("size=1m"). */
static void mount_parse_opts(char *opts, unsigned long *flags, char *data, size_t size)
{
	data[0] = '\0';
	for (char *save, *tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k, n = sizeof(mount_flags) / sizeof(mount_flags[0]);

		for (k = 0; k < n && strcmp(mount_flags[k].name, tok) != 0; k++)
			;
		if (k < n) {
			*flags = (*flags | mount_flags[k].set) & ~mount_flags[k].clear;
			continue;
		}
		size_t used = strlen(data);

		snprintf(data + used, size - used, "%s%s", used ? "," : "", tok);
	}
}

/*
 * ext2/3/4 share one magic number, and the ext4 driver mounts all three: say
 * "ext4" directly rather than let the kernel log a failed ext3 and ext2 try.
 */
static bool mount_is_ext(const char *dev)
{
	unsigned char magic[2];
	int fd = open(dev, O_RDONLY);

	if (fd < 0)
		return false;
	bool ext = pread(fd, magic, 2, 1024 + 56) == 2 && magic[0] == 0x53 && magic[1] == 0xef;

	close(fd);
	return ext;
}

/* Without -t, try every block file system the kernel knows (no "nodev" mark). */
static int mount_guess(const char *dev, const char *dir, unsigned long flags, const char *data)
{
	char line[128];
	int err = ENODEV;

	if (mount_is_ext(dev)) {
		if (mount(dev, dir, "ext4", flags, data) == 0)
			return 0;
		return tb_perror(dev);
	}
	FILE *f = fopen("/proc/filesystems", "r");

	if (!f)
		return tb_perror("/proc/filesystems");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "nodev", 5) == 0)
			continue;
		char *type = line + strspn(line, " \t");

		type[strcspn(type, " \t\n")] = '\0';
		if (mount(dev, dir, type, flags, data) == 0) {
			fclose(f);
			return 0;
		}
		/* EINVAL just means "not this type"; remember a more telling error. */
		if (errno != EINVAL)
			err = errno;
	}
	fclose(f);
	errno = err;
	return tb_perror(dev);
}

static int mount_list(void)
{
	int fd = open("/proc/mounts", O_RDONLY);

	if (fd < 0)
		return tb_perror("/proc/mounts");
	bool ok = tb_copy_fd(fd, 1);

	close(fd);
	return ok ? 0 : tb_perror("/proc/mounts");
}

int tb_mount(int argc, char **argv)
{
	const char *type = NULL;
	char opts[256] = "";
	char data[256];
	unsigned long flags = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:o:")) != -1) {
		if (opt == 't')
			type = optarg;
		else if (opt == 'o')
			snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), "%s%s",
				 opts[0] ? "," : "", optarg);
		else
			return tb_error("usage: mount [-t TYPE] [-o OPTS] DEVICE DIR");
	}
	if (optind == argc && !type && !opts[0])
		return mount_list();
	mount_parse_opts(opts, &flags, data, sizeof(data));
	/* "mount -o remount,ro DIR" names no device: the kernel ignores it then. */
	bool one = argc - optind == 1 && (flags & MS_REMOUNT);

	if (argc - optind != 2 && !one)
		return tb_error("usage: mount [-t TYPE] [-o OPTS] DEVICE DIR");

	const char *dev = argv[optind], *dir = argv[one ? optind : optind + 1];
	const char *d = data[0] ? data : NULL;

	if (!type && !(flags & (MS_REMOUNT | MS_BIND)))
		return mount_guess(dev, dir, flags, d);
	if (mount(dev, dir, type, flags, d) != 0)
		return tb_perror(dir);
	return 0;
}

int tb_umount(int argc, char **argv)
{
	int flags = 0, opt, status = 0;

	while ((opt = getopt(argc, argv, "lf")) != -1) {
		if (opt == 'l')
			flags |= MNT_DETACH;
		else if (opt == 'f')
			flags |= MNT_FORCE;
		else
			return tb_error("usage: umount [-l] [-f] DIR...");
	}
	if (optind == argc)
		return tb_error("usage: umount [-l] [-f] DIR...");
	for (int i = optind; i < argc; i++) {
		if (umount2(argv[i], flags) != 0)
			status |= tb_perror(argv[i]);
	}
	return status;
}
