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

.PHONY: examples
examples: $(DEPS_STAMP) all linux $(EXAMPLES_OUT)/sort $(EXAMPLES_OUT)/machine
	@echo "  RUN     $(EXAMPLES_OUT)/sort $(EXAMPLES_ARGS)"
	$(Q)$(EXAMPLES_OUT)/sort $(EXAMPLES_ARGS)
	@echo "  RUN     $(EXAMPLES_OUT)/machine $(EXAMPLES_ARGS)"
	$(Q)$(EXAMPLES_OUT)/machine $(EXAMPLES_ARGS)
	@echo "  RUN     examples/wordcount.py $(EXAMPLES_ARGS)"
	$(Q)PYTHONPATH=tools/python $(PYTHON) examples/wordcount.py $(EXAMPLES_ARGS)
