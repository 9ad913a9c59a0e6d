# libFuzzer harnesses (test/fuzz/fuzz_*.c), built with Debian's clang with
# ASan+UBSan.  Included from GNUmakefile.
#
#   make fuzz            each harness for FUZZ_SECONDS (default 300) in turn,
#                        from its seed corpus (test/fuzz/corpus/<name>); new
#                        inputs go to build/fuzz/corpus/<name>, crashes to
#                        build/fuzz/artifacts/ (and fail the target)
#   make fuzz-smoke      a short pass for `make check`: every seed, then
#                        FUZZ_SMOKE_SECONDS (default 5) of fuzzing, per harness
#   make fuzz-build      the harnesses only
#   make fuzz-clean
#   FUZZ_ARGS=...        more libFuzzer options, e.g. -jobs=2 or -only_ascii=1
#
# Each run is `nice -n 19`: the machine also runs the emulated Xen beds.
# A crash found becomes a regression input: copy it into the harness's
# corpus directory (test/fuzz/corpus/<name>/crash-<what>) with the fix.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_ARGS          ?=
FUZZ_NAMES := request agent_conf vm startup import task
FUZZ_B     := $(B)/fuzz
# clang has no -Wformat-truncation (GCC's); the rest of the project's
# warnings, -Werror included, apply as they are.
FUZZ_WARN   := $(filter-out -Wno-format-truncation,$(WARNINGS))
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -O1 -g $(FUZZ_WARN) $(FUZZ_SAN) \
               $(shell pkg-config --cflags $(PKGS))
# The agent's log lines are formatted but not printed (fuzz_util.h).
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN) -Wl,--wrap=log_msg

# The agent's modules, instrumented for coverage.
$(FUZZ_B)/obj/%.o: %.c $(wildcard agent/*.h agent/*.def) test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_B)/obj/test/fuzz/%.o: test/fuzz/%.c test/fuzz/fuzz_util.h $(wildcard agent/*.h agent/*.def) test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Iagent -c -o $@ $<

FUZZ_CONF := agent/err.c agent/log.c agent/conf.c
$(FUZZ_B)/fuzz_request: $(FUZZ_B)/obj/test/fuzz/fuzz_request.o \
		$(FUZZ_CONF:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/agent/request.o
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -linih
$(FUZZ_B)/fuzz_agent_conf: $(FUZZ_B)/obj/test/fuzz/fuzz_agent_conf.o \
		$(FUZZ_CONF:%.c=$(FUZZ_B)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -linih
$(FUZZ_B)/fuzz_vm: $(FUZZ_B)/obj/test/fuzz/fuzz_vm.o \
		$(FUZZ_CONF:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/agent/vm.o
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -linih
# The whole agent but main.c; the xenstore and hypervisor calls on the
# paths fuzzed are served by the harness (-Wl,--wrap).
FUZZ_WRAP := store_read store_read_str store_ls store_write store_rm hv_list
$(FUZZ_B)/fuzz_startup: $(FUZZ_B)/obj/test/fuzz/fuzz_startup.o \
		$(AGENT_SRCS:%.c=$(FUZZ_B)/obj/%.o)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(FUZZ_WRAP:%=-Wl,--wrap=%) -o $@ $^ $(LDLIBS)

# Task records through the agent's core, as test_agent links it: the
# doubles of xenstored and Xen (test/unit/fake_*.c) for store.c and hv.c;
# loop.c with the harness's clock and a poll that never waits; builders
# run in-process and no process is forked or killed (-Wl,--wrap).
FUZZ_TASK_SRCS := $(filter-out agent/store.c agent/hv.c agent/loop.c,$(AGENT_SRCS))
FUZZ_TASK_WRAP := child_fork kill hotplug_start
# Its own objects: edge counters without trace-cmp (see docs/reliability.md,
# fuzz_task), and the doubles not instrumented for coverage at all.
FUZZ_TASK_COV := -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp
FUZZ_TB := $(FUZZ_B)/obj-task
$(FUZZ_TB)/%.o: %.c $(wildcard agent/*.h agent/*.def) test/unit/fake.h test/fuzz/fuzz_util.h test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_TASK_COV) -Iagent -c -o $@ $<
$(FUZZ_TB)/test/unit/%.o: test/unit/%.c test/unit/fake.h $(wildcard agent/*.h agent/*.def) test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iagent -c -o $@ $<
$(FUZZ_TB)/fakeclock/loop.o: agent/loop.c agent/loop.h test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_TASK_COV) \
		-Dclock_gettime=fuzz_clock_gettime -Dpoll=fuzz_poll -c -o $@ $<
$(FUZZ_B)/fuzz_task: $(FUZZ_TB)/test/fuzz/fuzz_task.o \
		$(FUZZ_TASK_SRCS:%.c=$(FUZZ_TB)/%.o) $(FUZZ_TB)/fakeclock/loop.o \
		$(FUZZ_TB)/test/unit/fake_store.o $(FUZZ_TB)/test/unit/fake_hv.o
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(FUZZ_TASK_WRAP:%=-Wl,--wrap=%) -o $@ $^ $(LDLIBS)

# The xl.cfg importer: libxlutil parses (uninstrumented: the importer's
# own code is what is fuzzed), the agent's loader checks the result.
$(FUZZ_B)/obj/ctl/%.o: ctl/%.c ctl/import.h $(wildcard agent/*.h agent/*.def) test/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Iagent -c -o $@ $<
$(FUZZ_B)/obj/test/fuzz/fuzz_import.o: FUZZ_CFLAGS += -Ictl
$(FUZZ_B)/fuzz_import: $(FUZZ_B)/obj/test/fuzz/fuzz_import.o $(FUZZ_B)/obj/ctl/import.o \
		$(FUZZ_CONF:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/agent/vm.o
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(shell pkg-config --libs xlutil xenlight) -linih

FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
# $(call FUZZ_RUN,<name shell expression>): the harness, niced, with its
# dictionary when there is one.
# The vm harness writes VM files each run: on tmpfs it runs ~15 times
# faster than on this machine's /tmp (4000 against 275 runs a second).
FUZZ_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm,/tmp)
FUZZ_RUN = TMPDIR=$(FUZZ_TMPDIR) nice -n 19 $(FUZZ_B)/fuzz_$(1) -timeout=25 \
           -artifact_prefix=$(FUZZ_B)/artifacts/$(1)- \
           $$(test -f test/fuzz/$(1).dict && echo -dict=test/fuzz/$(1).dict) \
           $(FUZZ_ARGS)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-clean
fuzz-build: $(FUZZ_BINS)

# One harness at a time; libFuzzer's final stats (executions, cov, ft)
# are printed for each, the whole log is in build/fuzz/<name>.log.
fuzz: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_B)/artifacts
	@set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_B)/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$(call FUZZ_RUN,$$n) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_B)/corpus/$$n test/fuzz/corpus/$$n >$(FUZZ_B)/$$n.log 2>&1 || \
			{ tail -n 60 $(FUZZ_B)/$$n.log; echo "fuzz: $$n failed (log: $(FUZZ_B)/$$n.log)"; exit 1; }; \
		grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' $(FUZZ_B)/$$n.log | sed "s/^/  $$n: /"; \
	done

# Every seed, then FUZZ_SMOKE_SECONDS of fuzzing each, into a scratch
# corpus (the committed one is not written): about 6 x 6 s of runs.
# libFuzzer's random seed is fixed (FUZZ_SMOKE_SEED) so that make check
# explores the same inputs every time: a fresh seed each run once failed a
# fresh clone's make check on a bug found that moment (the importer's
# shared vdev, 89e1d20), which is what `make fuzz` is for.  The time bound
# still caps the run, so a slower machine sees a prefix of the same inputs.
FUZZ_SMOKE_SEED ?= 1
fuzz-smoke: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_B)/artifacts
	@set -e; for n in $(FUZZ_NAMES); do \
		rm -rf $(FUZZ_B)/smoke/$$n; mkdir -p $(FUZZ_B)/smoke/$$n; \
		$(call FUZZ_RUN,$$n) -max_total_time=$(FUZZ_SMOKE_SECONDS) -seed=$(FUZZ_SMOKE_SEED) \
			$(FUZZ_B)/smoke/$$n test/fuzz/corpus/$$n >$(FUZZ_B)/smoke-$$n.log 2>&1 || \
			{ tail -n 60 $(FUZZ_B)/smoke-$$n.log; echo "fuzz-smoke: $$n failed (log: $(FUZZ_B)/smoke-$$n.log)"; exit 1; }; \
		echo "fuzz-smoke: $$n: $$(grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_B)/smoke-$$n.log | tail -n 1)"; \
	done

fuzz-clean:
	rm -rf $(FUZZ_B)
clean: fuzz-clean
