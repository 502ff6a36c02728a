# SPDX-License-Identifier: BSD-2-Clause
#
# Vireo: a type-1 hypervisor for 64-bit RISC-V (H extension).
#   make         build the hypervisor (build/vireo.elf, build/vireo.bin)
#   make run     boot the default VM under QEMU
#   make test    unit tests on the host, then integration tests in QEMU
#   make bench   benchmarks against plain QEMU
#   make format / make lint
#   make fuzz    every fuzzer for a bounded time (FUZZ_SECONDS each)
#   make DEBUG=1 a hypervisor that also checks which hart holds each lock (BUILD=build/debug)

VERSION := 0.1.0
# No implicit rules: they would try to "make" the included .d files.
MAKEFLAGS += --no-builtin-rules
# V=1 shows full command lines.
Q := $(if $(V),,@)
.SUFFIXES:
BUILD ?= build
CROSS ?= riscv64-linux-gnu-
HOST_CC ?= gcc
PYTHON ?= /usr/bin/python3
QEMU ?= qemu-system-riscv64
SMP ?= 2
MEM ?= 1G

# Everything that needs Debian packages goes through the installer first.
DEPS_STAMP := $(BUILD)/.deps-ok
SCRIPTS_DEPS := scripts/deps.sh

# Unit-test rules name their sources through $$(UNIT_SRCS_$$*).
.SECONDEXPANSION:

.PHONY: all run test unit integration bench format lint clean deps
all: $(BUILD)/vireo.bin guests

deps: $(DEPS_STAMP)
$(DEPS_STAMP): $(SCRIPTS_DEPS)
	@bash $(SCRIPTS_DEPS)
	@mkdir -p $(BUILD) && touch $@

# ---------------------------------------------------------------- libfdt
# libfdt is compiled from its upstream source, carried by Debian's
# linux-source-6.1 tarball; it is extracted at build time, never committed.
LINUX_TARBALL ?= /usr/src/linux-source-6.1.tar.xz
LIBFDT_DIR := $(BUILD)/libfdt
LIBFDT_STAMP := $(LIBFDT_DIR)/.extracted
LIBFDT_NAMES := fdt fdt_ro fdt_rw fdt_sw fdt_wip fdt_strerror fdt_addresses fdt_empty_tree

$(LIBFDT_STAMP): | $(DEPS_STAMP)
	@bash scripts/extract-libfdt.sh $(LINUX_TARBALL) $(LIBFDT_DIR)
	@touch $@

# ---------------------------------------------------------------- hypervisor
HV_ARCH_FLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
# Stricter than -Wall -Wextra wherever the code holds to it (and it does, everywhere).
WARN_STRICT := -Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition -Wshadow -Wundef \
	-Wvla -Wcast-qual -Wformat=2 -Wpointer-arith -Wwrite-strings -Wredundant-decls \
	-Wnull-dereference -Wimplicit-fallthrough -Wduplicated-cond -Wlogical-op
# Link-time optimisation: the exit path crosses arch, core and sbi in a handful of small
# functions; inlining across those files saves a fifth of the instructions per exit.
HV_LTO ?= -flto=auto
HV_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 -g $(HV_ARCH_FLAGS) \
	-ffreestanding -fno-pie -fno-stack-protector -fno-common -fomit-frame-pointer \
	-fno-strict-aliasing -fno-tree-loop-distribute-patterns $(HV_LTO) -nostdinc -isystem $(shell $(CROSS)gcc -print-file-name=include) \
	-Ihv/include -Ihv/include/libc -I$(LIBFDT_DIR) -Ihv/arch/riscv -I$(BUILD)/gen \
	-DVIREO_VERSION=\"$(VERSION)\" $(if $(DEBUG),-DVIREO_DEBUG) -MMD -MP
HV_LDFLAGS := -nostdlib -no-pie -static -Wl,--gc-sections -Wl,-T,hv/arch/riscv/vireo.ld \
	-Wl,--no-warn-rwx-segments -Wl,--build-id=none

HV_C_SRCS := $(filter-out hv/arch/riscv/asm_offsets.c,$(wildcard hv/*/*.c hv/arch/riscv/*.c))
HV_S_SRCS := $(wildcard hv/arch/riscv/*.S)
HV_OBJS := $(HV_C_SRCS:%.c=$(BUILD)/%.o) $(HV_S_SRCS:%.S=$(BUILD)/%.o) \
	$(LIBFDT_NAMES:%=$(BUILD)/libfdt-obj/%.o)

$(BUILD)/hv/%.o: hv/%.c $(BUILD)/gen/asm_offsets.h $(LIBFDT_STAMP) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/%.o: hv/%.S $(BUILD)/gen/asm_offsets.h Makefile
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CROSS)gcc $(HV_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BUILD)/libfdt-obj/%.o: $(LIBFDT_STAMP) Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      libfdt/$*.c"
	$(Q)$(CROSS)gcc $(filter-out -Werror -MMD -MP,$(HV_CFLAGS)) -Wno-sign-compare -c $(LIBFDT_DIR)/$*.c -o $@

# Struct offsets for assembly come from C (asm_offsets.c), never typed by hand.
$(BUILD)/gen/asm_offsets.h: hv/arch/riscv/asm_offsets.c $(wildcard hv/include/vireo/*.h) $(LIBFDT_STAMP)
	@mkdir -p $(dir $@) $(BUILD)/gen
	@echo "  GEN     $@"
	$(Q)$(CROSS)gcc $(filter-out -MMD -MP $(HV_LTO),$(HV_CFLAGS)) -S $< -o $(BUILD)/gen/asm_offsets.s
	@sed -n 's/.*@@OFFSET \([A-Z0-9_]*\) [$$#]\{0,1\}\(-\{0,1\}[0-9]*\).*/#define \1 \2/p' \
		$(BUILD)/gen/asm_offsets.s > $@.tmp && mv $@.tmp $@

$(BUILD)/vireo.elf: $(HV_OBJS) hv/arch/riscv/vireo.ld
	@echo "  LD      $@"
	$(Q)$(CROSS)gcc $(HV_CFLAGS) $(HV_LDFLAGS) $(HV_OBJS) -o $@

$(BUILD)/vireo.bin: $(BUILD)/vireo.elf
	@echo "  OBJCOPY $@"
	$(Q)$(CROSS)objcopy -O binary $< $@

-include $(patsubst %.o,%.d,$(filter $(BUILD)/hv/%,$(HV_OBJS)))

# ---------------------------------------------------------------- guests
-include guests/tests/guests.mk
-include guests/sandbox/sandbox.mk
-include bench/bench.mk
-include guests/linux/linux.mk

# ---------------------------------------------------------------- host tools
-include tools/tools.mk
-include examples/examples.mk
-include tests/integration/exec.mk

# ---------------------------------------------------------------- run
# The default VM (configs/linux.conf): Linux with one vCPU per hart, 256 MiB, its console
# on the UART. SMP and MEM override the config's [machine].
run: $(DEPS_STAMP) all linux $(BUILD)/scratch.img
	@$(BUILD)/vireo run --smp $(SMP) --mem $(MEM) configs/linux.conf

# The default VM's disk: a 64 MiB ext2 scratch image, made once and then kept (it is the
# user's data from then on: `make run` never overwrites it; `make clean` removes it).
$(BUILD)/scratch.img: | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/scratch-root
	@printf 'This is the scratch disk of make run (build/scratch.img on the host).\n' \
		> $(BUILD)/scratch-root/README
	@echo "  MKE2FS  $@"
	$(Q)mke2fs -q -t ext2 -L scratch -d $(BUILD)/scratch-root $@.tmp 64M && mv $@.tmp $@

# ---------------------------------------------------------------- tests
UNIT_TESTS :=
include $(wildcard tests/unit/*.mk)
UNIT_CFLAGS := -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O1 -g -Ihv/include -I$(LIBFDT_DIR) \
	-DVIREO_HOST_TEST -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/unit/test_%)

# Every header too: a changed struct must rebuild the tests that use it.
$(BUILD)/unit/test_%: $(LIBFDT_STAMP) $$(UNIT_SRCS_$$*) $$(UNIT_DEPS_$$*) $(wildcard hv/include/vireo/*.h) \
		Makefile
	@mkdir -p $(dir $@)
	$(HOST_CC) $(UNIT_CFLAGS) $(UNIT_SRCS_$*) $(UNIT_EXTRA_$*) -o $@ -lcmocka

# A unit test that hangs fails (timeout's 124) instead of stalling the whole run.
UNIT_TIMEOUT ?= 300
unit: $(DEPS_STAMP) $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; \
	  timeout $(UNIT_TIMEOUT) $$t || { echo "$$t: failed (status $$?; 124: ran over $(UNIT_TIMEOUT) s)"; fail=1; }; \
	done; exit $$fail

integration: $(DEPS_STAMP) all linux $(EXEC_DRIVER) $(SANDBOX_EXAMPLES)
	$(PYTHON) -m pytest -v tests/integration $(PYTEST_ARGS)

# What keeps the house clean runs with the tests: style and static checks, the unit
# tests, every fuzzer for a bounded time, then the tests that boot QEMU.
test: $(DEPS_STAMP)
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) examples

-include tests/fuzz/fuzz.mk


# ---------------------------------------------------------------- style
FORMAT_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

lint: $(BUILD)/gen/asm_offsets.h
	@echo "  LINT    clang-format ($(words $(FORMAT_FILES)) files), cppcheck"
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--std=c11 -Ihv/include -Itools/libvireo --suppress=missingIncludeSystem \
		hv tools guests/tests guests/linux/userland tests/unit tests/integration examples

bench: $(DEPS_STAMP) all linux $(BENCH_MICRO) $(BENCH_SANDBOX)
	$(PYTHON) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
