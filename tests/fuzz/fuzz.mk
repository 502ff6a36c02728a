# SPDX-License-Identifier: BSD-2-Clause
#
# libFuzzer harnesses for everything that parses untrusted input. `make fuzz`
# builds each with clang (-fsanitize=fuzzer,address,undefined) and runs it for
# FUZZ_SECONDS from its committed seed corpus (tests/fuzz/corpus/NAME); new
# inputs go to build/fuzz/corpus/NAME, never into the source tree. A crash
# fails the build and leaves the input in build/fuzz/.
#   make fuzz FUZZ_SECONDS=600          a longer run
#   make fuzz-merge                     fold new inputs into the committed corpus

FUZZ_SECONDS ?= 10
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Ihv/include -DVIREO_HOST_TEST -Wall -Wextra -Werror

FUZZERS := insn vblk virtq vx vrtc chan vcon agent_host agent_guest gdb_stub vnet dhcp vaplic mproto sbelf \
	vstate snapfile
FUZZ_SRCS_insn := hv/arch/riscv/insn.c
FUZZ_SRCS_vblk := hv/lib/snap_io.c hv/vdev/virtio_blk.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c
FUZZ_SRCS_virtq := hv/virtio/virtq.c hv/core/guest_mem.c
FUZZ_SRCS_vx := hv/lib/vx.c
# The gdb stub: a hostile debugger on one side, anything from Vireo on the other.
FUZZ_SRCS_gdb_stub := tools/libvireo/rsp.c tools/libvireo/gdb_stub.c
FUZZ_SRCS_vaplic := hv/vdev/aplic.c hv/vdev/imsic.c
FUZZ_SRCS_vrtc := hv/lib/snap_io.c hv/vdev/goldfish_rtc.c
FUZZ_SRCS_chan := hv/core/chan.c hv/lib/vx.c hv/lib/byte_ring.c
FUZZ_SRCS_vcon := hv/lib/snap_io.c hv/vdev/virtio_console.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c \
	hv/lib/byte_ring.c
# What the guest agent sends, as libvireo parses it; what the host sends, as the agent does.
FUZZ_SRCS_agent_host := hv/lib/vx.c tools/libvireo/agent_host.c tools/libvireo/obuf.c
FUZZ_SRCS_agent_guest := hv/lib/vx.c guests/linux/userland/agent_core.c tools/libvireo/obuf.c
# What a client or a machine's daemon sends on the machine's socket.
FUZZ_SRCS_mproto := tools/libvireo/mproto.c hv/lib/vx.c
# A snapshot file, as a machine's daemon checks it before restoring it.
FUZZ_SRCS_snapfile := tools/libvireo/snapfile.c tools/libvireo/hsha.c
FUZZ_LIBS_snapfile := -lnettle
# A sandbox program's ELF file, as libvireo reads its symbols.
FUZZ_SRCS_sbelf := tools/libvireo/sandbox_elf.c
FUZZ_CFLAGS += -Itools/libvireo -Iguests/linux/userland
FUZZ_SRCS_vnet := hv/lib/snap_io.c hv/vdev/virtio_net.c hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c \
	hv/net/switch.c hv/net/mac_table.c hv/net/backlog.c hv/net/frame.c hv/net/dhcp.c
FUZZ_SRCS_dhcp := hv/net/dhcp.c
# A snapshot's device states, as Vireo loads them back.
FUZZ_SRCS_vstate := hv/lib/snap_io.c hv/vdev/plic.c hv/vdev/uart16550.c hv/vdev/virtio_console.c \
	hv/virtio/mmio.c hv/virtio/virtq.c hv/core/guest_mem.c hv/lib/byte_ring.c

FUZZ_BINS := $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(wildcard hv/include/vireo/*.h) \
		$(wildcard tools/libvireo/*.h guests/linux/userland/agent*.h) tests/fuzz/fuzz_check.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS_$*) $< $(FUZZ_LIBS_$*) -o $@

.PHONY: fuzz fuzz-merge
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZERS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$f tests/fuzz/corpus/$$f; \
		echo "  FUZZ    $$f ($(FUZZ_SECONDS) s)"; \
		(cd $(BUILD)/fuzz && ./fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=0 corpus/$$f $(abspath tests/fuzz/corpus)/$$f \
			> fuzz_$$f.log 2>&1) || { tail -40 $(BUILD)/fuzz/fuzz_$$f.log; exit 1; }; \
		grep -h "Done [0-9]* runs" $(BUILD)/fuzz/fuzz_$$f.log | sed 's/^/          /'; \
	done

fuzz-merge: $(FUZZ_BINS)
	@for f in $(FUZZERS); do \
		$(BUILD)/fuzz/fuzz_$$f -merge=1 tests/fuzz/corpus/$$f $(BUILD)/fuzz/corpus/$$f; \
	done
