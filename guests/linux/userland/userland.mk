# SPDX-License-Identifier: BSD-2-Clause
#
# The guest's userland and the initramfs that carries it: Debian 13's static
# BusyBox (busybox-static, riscv64) for the shell and the commands, and
# static programs of ours: init (which is also the exec agent), vireo-memstress,
# vireo-vectest, vireo-perfcount. Included by ../linux.mk, which sets LINUX_DIR,
# LINUX_TOP, LINUX_FETCH, BUILD, CROSS, PYTHON and LINUX_INITRAMFS.

LU_SRC := $(LINUX_DIR)/userland
LU_OUT := $(BUILD)/linux/userland
LU_CC := $(CROSS)gcc
# The agent shares the channel's framing (hv/lib/vx.c) and the output queue with the host
# library (tools/libvireo): the same code on both ends of the protocol.
LU_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -MMD -MP \
	-I$(LINUX_TOP)/hv/include -I$(LINUX_TOP)/tools/libvireo
LU_LDFLAGS := -static -s
LU_AGENT_OBJS := $(LU_OUT)/agent.o $(LU_OUT)/agent_core.o $(LU_OUT)/clock_sync.o \
	$(LU_OUT)/shared/obuf.o \
	$(LU_OUT)/shared/vx.o

LU_PROGS := init vireo-memstress vireo-vectest vireo-perfcount vireo-netflood
LU_BINS := $(LU_PROGS:%=$(LU_OUT)/%)
LU_BUSYBOX := $(LU_OUT)/busybox
LU_LIST := $(BUILD)/linux/initramfs.list

$(LU_OUT)/%.o: $(LU_SRC)/%.c
	@mkdir -p $(dir $@)
	$(LU_CC) $(LU_CFLAGS) -c $< -o $@

# init and the agent hold to the house's stricter warnings.
$(LU_OUT)/init.o $(LU_AGENT_OBJS): LU_CFLAGS += $(WARN_STRICT)

$(LU_OUT)/shared/obuf.o: $(LINUX_TOP)/tools/libvireo/obuf.c
	@mkdir -p $(dir $@)
	$(LU_CC) $(LU_CFLAGS) -c $< -o $@

$(LU_OUT)/shared/vx.o: $(LINUX_TOP)/hv/lib/vx.c
	@mkdir -p $(dir $@)
	$(LU_CC) $(LU_CFLAGS) -c $< -o $@

$(LU_OUT)/init: $(LU_OUT)/init.o $(LU_OUT)/net_up.o $(LU_AGENT_OBJS)
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/vireo-memstress: $(LU_OUT)/memstress.o
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/vireo-vectest: $(LU_OUT)/vectest.o
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/vireo-perfcount: $(LU_OUT)/perfcount.o
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

$(LU_OUT)/vireo-netflood: $(LU_OUT)/netflood.o
	$(LU_CC) $(LU_LDFLAGS) $^ -o $@

# BusyBox from the current busybox-static .deb (fetched and cached by
# debian-fetch.sh). Runs every time; the file changes only with the package.
$(LU_BUSYBOX): linux-force | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@deb=$$($(LINUX_FETCH) busybox-static | tail -n 1) && \
	dpkg-deb --fsys-tarfile "$$deb" | tar -xO ./usr/bin/busybox > $@.new && \
	test -s $@.new && chmod 755 $@.new && \
	dpkg-deb -f "$$deb" Version > $@.version.new && \
	if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; \
		echo "  BUSYBOX $@ ($$(cat $@.version.new))"; fi && \
	mv $@.version.new $@.version

# The layout of the initramfs, in gen_init_cpio's list syntax (see mkcpio.py).
# Applet links are made at boot by init (busybox --install -s /bin); /bin/sh
# is here already, since init starts it.
$(LU_LIST): $(LU_SRC)/userland.mk
	@mkdir -p $(dir $@)
	@{ for d in /bin /dev /etc /proc /sys /tmp /mnt /root /usr; do echo "dir $$d 0755 0 0"; done; \
	  echo "slink /sbin bin 0777 0 0"; \
	  echo "slink /usr/bin ../bin 0777 0 0"; \
	  echo "slink /usr/sbin ../bin 0777 0 0"; \
	  echo "nod /dev/console 0600 0 0 c 5 1"; \
	  echo "file /init $(LU_OUT)/init 0755 0 0"; \
	  echo "file /bin/busybox $(LU_BUSYBOX) 0755 0 0"; \
	  echo "slink /bin/sh busybox 0777 0 0"; \
	  echo "file /bin/vireo-memstress $(LU_OUT)/vireo-memstress 0755 0 0"; \
	  echo "file /bin/vireo-vectest $(LU_OUT)/vireo-vectest 0755 0 0"; \
	  echo "file /bin/vireo-perfcount $(LU_OUT)/vireo-perfcount 0755 0 0"; \
	  echo "file /bin/vireo-netflood $(LU_OUT)/vireo-netflood 0755 0 0"; \
	  echo "file /etc/passwd $(LU_OUT)/etc/passwd 0644 0 0"; \
	  echo "file /etc/group $(LU_OUT)/etc/group 0644 0 0"; \
	  echo "dir /usr/share 0755 0 0"; \
	  echo "dir /usr/share/udhcpc 0755 0 0"; \
	  echo "file /usr/share/udhcpc/default.script $(LU_SRC)/udhcpc.script 0755 0 0"; \
	} > $@.tmp && mv $@.tmp $@

# Names for ls -l and ps: root, and the tty group that devpts gives terminals.
$(LU_OUT)/etc/passwd $(LU_OUT)/etc/group: $(LU_SRC)/userland.mk
	@mkdir -p $(dir $@)
	@printf 'root:x:0:0:root:/root:/bin/sh\n' > $(LU_OUT)/etc/passwd
	@printf 'root:x:0:\ntty:x:5:\n' > $(LU_OUT)/etc/group

$(LINUX_INITRAMFS): $(LU_LIST) $(LU_BINS) $(LU_BUSYBOX) $(LU_OUT)/etc/passwd \
		$(LU_OUT)/etc/group $(LINUX_DIR)/mkcpio.py $(LU_SRC)/udhcpc.script
	$(PYTHON) $(LINUX_DIR)/mkcpio.py $(LU_LIST) $@

-include $(LU_OUT)/init.d $(LU_OUT)/memstress.d $(LU_OUT)/vectest.d $(LU_OUT)/perfcount.d \
	$(LU_OUT)/net_up.d $(LU_OUT)/netflood.d $(LU_AGENT_OBJS:.o=.d)
