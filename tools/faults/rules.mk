# The fault-injecting I/O shim (see tools/faults/README.md); included by the top Makefile.
#
# The shim and its probe are built with their own flags, never the sanitizer ones: an
# LD_PRELOAD library must not drag the ASan runtime into every program it is loaded into.

FAULT_CFLAGS   = -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE
FAULT_LIB      = $(O)/lib/libaxfault.so
FAULT_PROBE    = $(O)/bin/fault-probe
FAULT_PROFILES = io:short/2 io:eintr/3 io:eagain/2

$(FAULT_LIB): tools/faults/faults.c
	@mkdir -p $(@D)
	$(CC) $(FAULT_CFLAGS) -fPIC -shared $< -o $@ -ldl -pthread

$(FAULT_PROBE): tools/faults/fault-probe.c
	@mkdir -p $(@D)
	$(CC) $(FAULT_CFLAGS) $< -o $@ -pthread

# The shim's own suite runs the probe under the shim; it finds both next to itself.
TOOL_TESTS += $(O)/tests/tools/test_faults
$(O)/tests/tools/test_faults: | $(FAULT_LIB) $(FAULT_PROBE)

# Every library test and every exercise suite (against solutions/), once per profile.
# verify_asan_link_order=0 lets a sanitizer build (O=build/asan SAN=1) run preloaded.
.PHONY: test-faults test-faults-run
test-faults: deps
	@$(MAKE) --no-print-directory test-faults-run

test-faults-run: $(LIB_TESTS) $(SOLVED_TESTS) $(FAULT_LIB)
	@status=0; for profile in $(FAULT_PROFILES); do \
	    echo "== faults: $$profile"; \
	    LD_PRELOAD=$(abspath $(FAULT_LIB)) AX_FAULTS=$$profile \
	    ASAN_OPTIONS=$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}verify_asan_link_order=0 \
	        $(RUN_TESTS) $(LIB_TESTS) $(SOLVED_TESTS) || status=1; \
	done; exit $$status
