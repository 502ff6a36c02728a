# SPDX-License-Identifier: BSD-2-Clause
# The C side of test_exec.py: scenarios run through the shared libvireo.
EXEC_DRIVER := $(BUILD)/tests/exec_driver

$(EXEC_DRIVER): tests/integration/exec_driver.c tools/libvireo/include/vireo.h $(LIBVIREO_SO)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=gnu11 -Wall -Wextra $(WARN_STRICT) -Werror -O2 \
		-Itools/libvireo/include $< -L$(BUILD) -lvireo -Wl,-rpath,$(abspath $(BUILD)) -o $@
