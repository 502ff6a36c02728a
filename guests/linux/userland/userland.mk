# SPDX-License-Identifier: BSD-2-Clause
#
# The guest's userland: static rv64 binaries (init, sh, toolbox) and the
# initramfs that carries them. Included by ../linux.mk, which sets LINUX_DIR,
# BUILD, CROSS, PYTHON and LINUX_INITRAMFS.

LU_SRC := $(LINUX_DIR)/userland
LU_OUT := $(BUILD)/linux/userland
LU_CC := $(CROSS)gcc
LU_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -MMD -MP
LU_LDFLAGS := -static -s

LU_INIT_OBJS := $(LU_OUT)/init.o
LU_SH_OBJS := $(patsubst $(LU_SRC)/%.c,$(LU_OUT)/%.o,$(wildcard $(LU_SRC)/sh*.c))
LU_TB_OBJS := $(patsubst $(LU_SRC)/%.c,$(LU_OUT)/%.o,$(LU_SRC)/toolbox.c $(wildcard $(LU_SRC)/tb_*.c))
LU_BINS := $(LU_OUT)/init $(LU_OUT)/sh $(LU_OUT)/toolbox

# toolbox_cmds.h is the one list of commands; each gets a /bin symlink.
LU_TOOLBOX_CMDS := $(shell sed -n 's/^TB_CMD.\([a-z0-9_]*\),.*/\1/p' $(LU_SRC)/toolbox_cmds.h)
LU_LIST := $(BUILD)/linux/initramfs.list

$(LU_OUT)/%.o: $(LU_SRC)/%.c
	@mkdir -p $(dir $@)
	$(LU_CC) $(LU_CFLAGS) -c $< -o $@

$(LU_OUT)/init: $(LU_INIT_OBJS)
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/sh: $(LU_SH_OBJS)
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/toolbox: $(LU_TB_OBJS)
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@ -lm

# The layout of the initramfs, in gen_init_cpio's list syntax (see mkcpio.py).
$(LU_LIST): $(LU_SRC)/toolbox_cmds.h $(LU_SRC)/userland.mk
	@mkdir -p $(dir $@)
	@{ for d in /bin /dev /proc /sys /tmp /mnt; do echo "dir $$d 0755 0 0"; done; \
	  echo "nod /dev/console 0600 0 0 c 5 1"; \
	  echo "file /init $(LU_OUT)/init 0755 0 0"; \
	  echo "file /bin/sh $(LU_OUT)/sh 0755 0 0"; \
	  echo "file /bin/toolbox $(LU_OUT)/toolbox 0755 0 0"; \
	  for c in $(LU_TOOLBOX_CMDS); do echo "slink /bin/$$c toolbox 0777 0 0"; done; \
	} > $@.tmp && mv $@.tmp $@

$(LINUX_INITRAMFS): $(LU_LIST) $(LU_BINS) $(LINUX_DIR)/mkcpio.py
	$(PYTHON) $(LINUX_DIR)/mkcpio.py $(LU_LIST) $@

-include $(LU_INIT_OBJS:.o=.d) $(LU_SH_OBJS:.o=.d) $(LU_TB_OBJS:.o=.d)
