# The course's one build entry point. `make help` lists the targets.
#
# Everything generated goes under $(O) (default build/). The sanitizer builds are the
# same tree built again under build/asan with SAN=1 (AddressSanitizer and UBSan) and
# under build/tsan with SAN=thread (ThreadSanitizer), so they never mix.

O        ?= build
CC       ?= cc
SAN      ?=
CH       ?=
EX       ?=

OPT       = -O2
SANITIZE  =
ifeq ($(SAN),1)
SANITIZE  = -fsanitize=address,undefined
OPT       = -O1 $(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(SAN),thread)
SANITIZE  = -fsanitize=thread
OPT       = -O1 $(SANITIZE) -fno-omit-frame-pointer
endif
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -pthread
CPPFLAGS += -D_GNU_SOURCE -Ilib -Itests/support -MMD -MP
LDFLAGS  += $(SANITIZE)
LDLIBS   += -pthread -lm

# Check is found by pkg-config when a rule needs it (after `make deps` installed it).
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

# ---------------------------------------------------------------------------------
# What there is to build

LIB_SRC     := $(wildcard lib/*.c)
LIBAX       := $(O)/lib/libax.a
SUPPORT_SRC := $(wildcard tests/support/*.c)
AXTEST      := $(O)/lib/libaxtest.a

DEMO_SRC    := $(wildcard chapters/[0-9]*/*.c)
DEMOS       := $(addprefix $(O)/bin/,$(basename $(notdir $(DEMO_SRC))))

BENCH_SRC   := $(wildcard bench/*.c)
BENCHES     := $(addprefix $(O)/bin/bench-,$(basename $(notdir $(BENCH_SRC))))

LIB_TEST_SRC := $(wildcard tests/[0-9]*/test_*.c)
LIB_TESTS    := $(LIB_TEST_SRC:tests/%.c=$(O)/tests/%)

# The exercise manifest becomes make variables: EXERCISES, and per id EX_<id>_CHAPTER,
# EX_<id>_EDIT, EX_<id>_SUITE, EX_<id>_SOLVED (suite against the solution) and
# EX_<id>_READER (suite against the reader's exercises/ files).
-include $(O)/exercises.mk
$(O)/exercises.mk: exercises/manifest tools/manifest-to-make.awk
	@mkdir -p $(@D)
	awk -v O=$(O) -f tools/manifest-to-make.awk $< > $@

SOLVED_TESTS := $(foreach e,$(EXERCISES),$(EX_$(e)_SOLVED))
READER_TESTS := $(foreach e,$(EXERCISES),$(EX_$(e)_READER))

# Tools (the course tool, the fault shim) bring their own rules and tests.
TOOLS      :=
TOOL_TESTS := $(O)/tests/tools/test_snapshot
include $(wildcard tools/*/rules.mk)

# ---------------------------------------------------------------------------------
# Which tests a run selects: all, one chapter (CH=01) or one exercise (EX=01-...)

ifneq ($(EX),)
SELECTED_TESTS = $(or $(EX_$(EX)_SOLVED),$(error unknown exercise '$(EX)'; see exercises/manifest))
SELECTED_READER = $(EX_$(EX)_READER)
SELECTED_EXERCISES = $(EX)
else ifneq ($(CH),)
CH_DIR = $(or $(notdir $(wildcard tests/$(CH)-*)),$(error no tests for chapter '$(CH)'))
SELECTED_TESTS = $(filter $(O)/tests/$(CH_DIR)/%,$(LIB_TESTS) $(SOLVED_TESTS))
SELECTED_READER = $(filter $(O)/exercises/$(CH_DIR)/%,$(READER_TESTS))
SELECTED_EXERCISES = $(foreach e,$(EXERCISES),$(if $(filter $(CH_DIR),$(EX_$(e)_CHAPTER)),$(e)))
else
SELECTED_TESTS = $(LIB_TESTS) $(SOLVED_TESTS) $(TOOL_TESTS)
SELECTED_READER = $(READER_TESTS)
SELECTED_EXERCISES = $(EXERCISES)
endif

# ---------------------------------------------------------------------------------
# Building

.PHONY: all
all: $(LIBAX) $(DEMOS) $(BENCHES) $(TOOLS) $(LIB_TESTS) $(SOLVED_TESTS) $(READER_TESTS) $(TOOL_TESTS)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(dir $<) -I$(subst solutions/,exercises/,$(subst tests/,exercises/,$(dir $<))) \
	    $(CHECK_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIBAX): $(LIB_SRC:%.c=$(O)/obj/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(AXTEST): $(SUPPORT_SRC:%.c=$(O)/obj/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# A demo is one file in its chapter folder; its binary takes the file's name.
define demo_rule
$(O)/bin/$(basename $(notdir $(1))): $(O)/obj/$(1:.c=.o) $(LIBAX)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach src,$(DEMO_SRC),$(eval $(call demo_rule,$(src))))

# bench/timers.c runs exercise 05-timer-heap's reference solution beside the wheel.
$(O)/obj/bench/timers.o: CPPFLAGS += -Iexercises/05-timers

$(O)/bin/bench-%: $(O)/obj/bench/%.o $(LIBAX)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Every test binary: its own objects, then the support and runtime libraries, then Check.
LINK_TEST = mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(CHECK_LIBS) $(LDLIBS) -o $@
$(O)/tests/%: $(O)/obj/tests/%.o $(AXTEST) $(LIBAX)
	$(LINK_TEST)

# Some tests start a chapter's demo server, and the help suites run every demo and
# benchmark, so those are built before any test runs.
$(LIB_TESTS) $(SOLVED_TESTS): | $(DEMOS) $(BENCHES)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------------
# Running tests

RUN_TESTS = tools/run-tests

.PHONY: deps deps-book test test-run test-exercises check-harness asan tsan memcheck test-faults
deps:
	@tools/deps test

deps-book:
	@tools/deps book

test: deps
	@$(MAKE) --no-print-directory test-run

test-run: $(SELECTED_TESTS)
	@$(RUN_TESTS) $(SELECTED_TESTS)

# SAN=asan builds the suites against your exercises with AddressSanitizer and UBSan
# (in $(O)/asan, as `make asan` does); SAN=valgrind runs them under valgrind, as
# `make memcheck` does. `./course verify --asan ID` and `--valgrind ID` explain one.
test-exercises: deps
ifeq ($(SAN),asan)
	@$(MAKE) --no-print-directory O=$(O)/asan SAN=1 test-exercises-run EXERCISE_CHECK=--asan
else ifeq ($(SAN),valgrind)
	@command -v valgrind >/dev/null || { echo "SAN=valgrind needs valgrind: apt-get install valgrind" >&2; exit 1; }
	@$(MAKE) --no-print-directory test-exercises-run EXERCISE_CHECK=--valgrind
else ifneq ($(filter-out 1,$(SAN)),)
	@echo "make test-exercises: SAN=$(SAN) is not a checker; use SAN=asan or SAN=valgrind" >&2; exit 2
else
	@$(MAKE) --no-print-directory test-exercises-run
endif

.PHONY: test-exercises-run
test-exercises-run: $(SELECTED_READER)
	@$(RUN_TESTS) --exercises $(EXERCISE_CHECK) $(foreach e,$(SELECTED_EXERCISES),$(e)=$(EX_$(e)_READER))

check-harness: deps
	@$(MAKE) --no-print-directory check-harness-run

.PHONY: check-harness-run
check-harness-run: $(foreach e,$(SELECTED_EXERCISES),$(EX_$(e)_READER) $(EX_$(e)_SOLVED))
	@$(RUN_TESTS) --harness $(foreach e,$(SELECTED_EXERCISES),$(e)=$(EX_$(e)_READER)=$(EX_$(e)_SOLVED))

asan: deps
	@$(MAKE) --no-print-directory O=$(O)/asan SAN=1 test-run

# The suites of the code that threads share (chapter 08's inbox and pool, and what
# runs on the pool) under ThreadSanitizer, with no suppressions: a data race or a lock
# taken in two orders fails the run. One process per suite (CK_FORK=no): TSan follows
# threads, not Check's forks; `timeout` bounds the run, as Check's time limits would.
TSAN_SUITES = $(patsubst %.c,%,$(wildcard tests/08-*/test_inbox.c tests/08-*/test_pool.c \
                tests/08-*/test_file.c tests/08-*/test_resolve.c))

tsan: deps
	@$(MAKE) --no-print-directory O=$(O)/tsan SAN=thread tsan-run

.PHONY: tsan-run
tsan-run: $(TSAN_SUITES:%=$(O)/%)
	@CK_FORK=no TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	    timeout 900 $(RUN_TESTS) $^

memcheck: deps
	@command -v valgrind >/dev/null || { echo "memcheck needs valgrind: apt-get install valgrind" >&2; exit 1; }
	@$(MAKE) --no-print-directory test-run RUN_TESTS='tools/run-tests --valgrind'

# ---------------------------------------------------------------------------------
# Per-chapter snapshots: the tree as it stands at the end of each chapter

SNAPSHOT_CHAPTERS = $(sort $(notdir $(wildcard tests/[0-9]*)))

.PHONY: snapshots test-snapshots
snapshots:
	@tools/snapshot --all $(O)/snapshots

test-snapshots: deps snapshots
	@set -e; for ch in $(SNAPSHOT_CHAPTERS); do \
	    echo "== snapshot $$ch"; \
	    $(MAKE) --no-print-directory -C $(O)/snapshots/$$ch O=build TOOL_TESTS= test-run; \
	done

# ---------------------------------------------------------------------------------
# Benchmarks: each prints name<TAB>value<TAB>unit; the run is kept in results.tsv

.PHONY: bench
# Benchmarks that must free everything they made are run once more under valgrind, which
# reports the heap left at exit (tools/run-bench); skipped where valgrind is missing.
HEAP_BENCHES = $(if $(shell command -v valgrind),$(addprefix valgrind:,$(filter $(O)/bin/bench-cancel,$(BENCHES))))

bench: $(BENCHES) $(DEMOS)
	@tools/run-bench $(O)/bench/results.tsv $(BENCHES) $(HEAP_BENCHES)

# axle beside tokio in one run: installs cargo and Debian's tokio and tokio-util crates
# (tools/deps peers), builds bench/peers/tokio offline, measures both, and adds peer.*
# lines to results.tsv (bench/peers/README.md). Skips with a note where tokio cannot be had.
.PHONY: bench-peers
bench-peers: $(filter $(O)/bin/bench-tasks $(O)/bin/bench-timers $(O)/bin/bench-backpressure,$(BENCHES)) $(DEMOS)
	@tools/bench-peers $(O)

# ---------------------------------------------------------------------------------
# Formatting and editor support

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find lib tests chapters exercises solutions bench tools -name '*.[ch]')

.PHONY: format format-check
format:
	clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run -Werror $(C_FILES) && echo "format-check: $(words $(C_FILES)) files formatted"

# compile_commands.json for clangd, written from the same flags the build uses.
.PHONY: compile_commands.json
compile_commands.json:
	@{ echo '['; sep=''; \
	  for f in $(C_FILES); do case $$f in *.c) \
	    printf '%s{"directory":"%s","file":"%s","command":"%s %s -I%s %s %s -c %s"}\n' "$$sep" \
	      "$(CURDIR)" "$$f" "$(CC)" "$(CPPFLAGS)" "$$(dirname $$f)" \
	      "-I$$(dirname $$f | sed 's,^solutions/,exercises/,;s,^tests/,exercises/,')" "$(CFLAGS)" "$$f"; \
	    sep=','; esac; done; echo ']'; } > $@
	@echo "wrote $@"

.PHONY: clean
clean:
	rm -rf $(O) compile_commands.json

.PHONY: help
help:
	@echo 'make                 build the library, demos, benchmarks and tests'
	@echo 'make test            run every test: library and exercise suites against solutions/'
	@echo '                     CH=01 runs one chapter, EX=01-writev-all one exercise'
	@echo 'make test-exercises  run the exercise suites against your work in exercises/'
	@echo '                     SAN=asan with AddressSanitizer + UBSan, SAN=valgrind under valgrind'
	@echo 'make check-harness   prove each exercise stub fails and its solution passes'
	@echo 'make asan            every test under AddressSanitizer + UBSan (build/asan)'
	@echo 'make tsan            the thread pool'"'"'s and inbox'"'"'s suites under ThreadSanitizer (build/tsan)'
	@echo 'make memcheck        every test under valgrind; leaks are errors'
	@echo 'make test-faults     I/O tests with injected short reads/writes, EINTR, EAGAIN'
	@echo 'make snapshots       write build/snapshots/NN-slug: the tree at the end of chapter NN'
	@echo 'make test-snapshots  build each snapshot and run its chapters'"'"' tests'
	@echo 'make bench           run the benchmarks; results in build/bench/results.tsv'
	@echo 'make bench-peers     axle beside tokio: echo load, task costs, timers, channels (peer.*)'
	@echo 'make book            render build/book/book.{html,epub,pdf} and build/book/chapters/*.html'
	@echo '                     (book-html: the one page, faster; book-chapters: the chapter pages)'
	@echo 'make format          clang-format every C file (format-check only checks)'
	@echo 'make compile_commands.json   for clangd'
	@echo 'make clean           remove build/'
	@echo './course             the course tool: progress, next exercise, verify, hint, watch,'
	@echo '                     read NN (a chapter in the terminal); ./course help lists them'
