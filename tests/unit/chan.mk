# SPDX-License-Identifier: BSD-2-Clause
# The channel core (Vireo's end of the link protocol) with the real framing and byte
# rings; the transport and the VMs' devices are fakes in the test.
UNIT_TESTS += chan
UNIT_SRCS_chan := hv/core/chan.c hv/lib/vx.c hv/lib/byte_ring.c tests/unit/test_chan.c
UNIT_EXTRA_chan := -fno-sanitize-recover=all
