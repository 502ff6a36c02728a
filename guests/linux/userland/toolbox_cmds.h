/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The toolbox's commands, one line each: TB_CMD(name, function). This list is
 * the single source of truth: toolbox.c dispatches on it and linux.mk reads
 * the names from it to make the /bin symlinks of the initramfs.
 */
TB_CMD(cat, tb_cat)
TB_CMD(cmp, tb_cmp)
TB_CMD(cp, tb_cp)
TB_CMD(dd, tb_dd)
TB_CMD(dmesg, tb_dmesg)
TB_CMD(echo, tb_echo)
TB_CMD(false, tb_false)
TB_CMD(halt, tb_halt)
TB_CMD(ln, tb_ln)
TB_CMD(ls, tb_ls)
TB_CMD(memstress, tb_memstress)
TB_CMD(mkdir, tb_mkdir)
TB_CMD(mount, tb_mount)
TB_CMD(mv, tb_mv)
TB_CMD(poweroff, tb_poweroff)
TB_CMD(reboot, tb_reboot)
TB_CMD(rm, tb_rm)
TB_CMD(rmdir, tb_rmdir)
TB_CMD(sleep, tb_sleep)
TB_CMD(sync, tb_sync)
TB_CMD(touch, tb_touch)
TB_CMD(true, tb_true)
TB_CMD(umount, tb_umount)
TB_CMD(uname, tb_uname)
