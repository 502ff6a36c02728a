# SPDX-License-Identifier: BSD-2-Clause
# The examples of libvireo, in C and Python: `make examples` builds the C one against the
# build tree's library and runs both (each boots VMs). EXAMPLES_ARGS=--bare runs them on
# plain QEMU.
EXAMPLES_OUT := $(BUILD)/examples
EXAMPLES_ARGS ?=

$(EXAMPLES_OUT)/sort: examples/sort.c tools/libvireo/include/vireo.h $(LIBVIREO_SO)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 \
		-Itools/libvireo/include $< -L$(BUILD) -lvireo -Wl,-rpath,$(abspath $(BUILD)) -o $@

$(EXAMPLES_OUT)/machine: examples/machine.c tools/libvireo/include/vireo.h $(LIBVIREO_SO)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 \
		-Itools/libvireo/include $< -L$(BUILD) -lvireo -Wl,-rpath,$(abspath $(BUILD)) -o $@

# Sandboxes: guest programs built with the guest SDK (guests/sandbox/sandbox.mk), the C
# host program that fuzzes one, and the Python one that maps memory on demand.
$(eval $(call sandbox_program,records,examples/sandbox/records.c))
$(eval $(call sandbox_program,lazy,examples/sandbox/lazy.c))

$(EXAMPLES_OUT)/%.elf: $(SANDBOX_OUT)/%.elf
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(EXAMPLES_OUT)/sandbox_fuzz: examples/sandbox_fuzz.c tools/libvireo/include/vireo.h $(LIBVIREO_SO)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 \
		-Itools/libvireo/include $< -L$(BUILD) -lvireo -Wl,-rpath,$(abspath $(BUILD)) -o $@

SANDBOX_EXAMPLES := $(EXAMPLES_OUT)/sandbox_fuzz $(EXAMPLES_OUT)/records.elf \
	$(EXAMPLES_OUT)/lazy.elf

# Without Linux: the sandbox examples alone.
.PHONY: sandbox-examples
sandbox-examples: $(DEPS_STAMP) $(BUILD)/vireo.bin $(SANDBOX_EXAMPLES)
	@echo "  RUN     $(EXAMPLES_OUT)/sandbox_fuzz"
	$(Q)$(EXAMPLES_OUT)/sandbox_fuzz
	@echo "  RUN     examples/lazy_pages.py"
	$(Q)$(PYTHON) examples/lazy_pages.py $(EXAMPLES_OUT)/lazy.elf

.PHONY: examples
examples: $(DEPS_STAMP) all linux $(EXAMPLES_OUT)/sort $(EXAMPLES_OUT)/machine \
		sandbox-examples
	@echo "  RUN     $(EXAMPLES_OUT)/sort $(EXAMPLES_ARGS)"
	$(Q)$(EXAMPLES_OUT)/sort $(EXAMPLES_ARGS)
	@echo "  RUN     $(EXAMPLES_OUT)/machine $(EXAMPLES_ARGS)"
	$(Q)$(EXAMPLES_OUT)/machine $(EXAMPLES_ARGS)
	@echo "  RUN     examples/wordcount.py $(EXAMPLES_ARGS)"
	$(Q)PYTHONPATH=tools/python $(PYTHON) examples/wordcount.py $(EXAMPLES_ARGS)
