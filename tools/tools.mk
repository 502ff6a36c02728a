# SPDX-License-Identifier: BSD-2-Clause
# Host tools. tools/vireo is a Python 3 script (standard library only).
VIREO_TOOL := $(PYTHON) tools/vireo
