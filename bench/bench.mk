# SPDX-License-Identifier: BSD-2-Clause
#
# Benchmarks: the bare-metal micro-benchmark kernel, built like the test
# guests (guests/tests/guests.mk, included before this file) on their runtime
# in guests/tests/lib, plus bench/lib. `make bench` (top-level Makefile) runs
# bench/run.py, which boots it under Vireo and bare on QEMU.
# Output: $(BUILD)/bench/micro.elf and $(BUILD)/bench/micro.bin.

BENCH_OUT := $(BUILD)/bench
BENCH_MICRO := $(BENCH_OUT)/micro.bin
BENCH_SRCS := bench/micro.c $(wildcard bench/lib/*.c bench/lib/*.S)
BENCH_OBJS := $(BENCH_SRCS:%=$(BENCH_OUT)/obj/%.o)

.PHONY: bench-micro
bench-micro: $(BENCH_MICRO)

$(BENCH_OUT)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BENCH_OUT)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BENCH_OUT)/micro.elf: $(BENCH_OBJS) $(GUEST_LIB_OBJS) $(GUEST_LDS)
	@echo "  LD      $@"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) $(filter %.o,$^) -o $@

$(BENCH_MICRO): $(BENCH_OUT)/micro.elf
	$(Q)$(CROSS)objcopy -O binary $< $@

-include $(BENCH_OBJS:.o=.d)

# The sandbox benchmarks' host program (bench/sandbox/sbbench_host.c), against the static
# library (named: tools.mk, which defines LIBVIREO_A, is included after this file); it
# drives $(SANDBOX_OUT)/sbbench.elf (guests/sandbox/sandbox.mk).
BENCH_SANDBOX := $(BENCH_OUT)/sbbench_host
$(BENCH_SANDBOX): bench/sandbox/sbbench_host.c tools/libvireo/include/vireo.h $(BUILD)/libvireo.a
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 \
		-Itools/libvireo/include $< $(BUILD)/libvireo.a -lpthread -lnettle -o $@
