# mello: make run | make test | make bench | make trace | make iso | make debug | make clean
#
# Variables: SMP (default 8), MEM (512M), ACCEL (tcg|kvm), CMDLINE (run),
#            LIMINE_DIR (for make iso; make test also boots the ISO when set),
#            SMP_LIST (CPU counts for make test).

SMP        ?= 8
MEM        ?= 512M
ACCEL      ?= tcg
CMDLINE    ?= run
export SMP MEM ACCEL

TARGET     := x86_64-unknown-none
OUT        := target/$(TARGET)/release
KERNEL     := $(OUT)/kernel
BUILD      := build
INITRD     := $(BUILD)/initrd.cpio
USR_BINS    = $(shell ls usr/src/bin/*.rs 2>/dev/null | xargs -n1 basename 2>/dev/null | sed 's/\.rs$$//')
MKINITRD   := target/release/mkinitrd
MKBADELF   := target/release/mkbadelf

.PHONY: all deps toolchain kernel usr initrd run test test-host test-loom test-qemu fuzz bench bench-compare experiment bench-host trace iso iso-test debug clean

all: kernel initrd

# The pinned Rust toolchain, its bare-metal target and components (rust-toolchain.toml).
toolchain:
	@boot/ensure-deps.sh build

# toolchain + QEMU (Debian package).
deps:
	@boot/ensure-deps.sh qemu

kernel: toolchain
	cargo build -p kernel --target $(TARGET) --release

usr: toolchain
	cargo build -p usr --target $(TARGET) --release

$(MKINITRD) $(MKBADELF): $(wildcard kernel/kcore/src/*.rs kernel/kcore/src/*/*.rs kernel/kcore/src/bin/*.rs)
	cargo build -p kcore --features std --bin mkinitrd --bin mkbadelf --release

# The initrd: every usr/ program, kernel.sym (symbols for panic backtraces) and the
# hostile ELF files (bad_*) the tests exec.
initrd: kernel usr $(MKINITRD) $(MKBADELF)
	@mkdir -p $(BUILD)
	$(MKINITRD) --ksyms $(KERNEL) $(BUILD)/kernel.sym
	$(MKBADELF) $(BUILD)/badelf
	$(MKINITRD) $(INITRD) $(addprefix $(OUT)/,$(USR_BINS)) $(BUILD)/kernel.sym $(BUILD)/badelf/bad_*

run: deps all
	@echo "Booting mello: $(SMP) CPUs, $(MEM), $(ACCEL). Quit with Ctrl-A then X."
	@boot/qemu.sh $(KERNEL) $(INITRD) "$(CMDLINE)"

# With LIMINE_DIR set, also boots the Limine ISO (BIOS and UEFI): see boot/iso-tests.sh.
test: deps all $(if $(LIMINE_DIR),iso-test)
	@LIMINE_DIR="$(LIMINE_DIR)" boot/run-tests.sh $(KERNEL) $(INITRD)

test-host:
	cargo test

# Loom models of the executor's state word and idle handshake (executor/tests/loom_*.rs):
# ~60 s from cold (its own target dir, loom builds), ~2 s of model checking.
test-loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p executor --release --test loom_state --test loom_idle

# A long pass of the ring-3 system-call fuzzer (usr/src/bin/fuzz.rs) as the whole test
# run (test=user:...; it ends the run with test_exit). SEED (default: from the clock,
# printed), CALLS per process, PROCS, SMP; FUZZ_TIMEOUT in seconds.
CALLS        ?= 100000
PROCS        ?= 8
FUZZ_TIMEOUT ?= 3600
comma        := ,
fuzz: deps all
	@echo "Fuzzing: $(PROCS) processes x $(CALLS) calls, $(SMP) CPUs, seed $(if $(SEED),$(SEED),from the clock)"
	@TIMEOUT=$(FUZZ_TIMEOUT) boot/qemu.sh $(KERNEL) $(INITRD) \
	    "test=user:fuzz$(comma)calls=$(CALLS)$(comma)procs=$(PROCS)$(if $(SEED),$(comma)seed=$(SEED))"; \
	    rc=$$?; [ $$rc = 33 ] || { echo "make fuzz: FAILED (QEMU exit status $$rc; 33 = passed)"; exit 1; }

# Benchmarks in QEMU (see docs/benchmarking.md): RUNS=n, ONLY=<metric>, RT=1 (real-time
# priority, root only) and PIN=<host CPUs> (taskset) optional. Debian's python3, where it
# exists, is the one that sees python3-matplotlib.
PYTHON     ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
BENCH_OPTS  = --smp $(SMP) --accel $(ACCEL) $(if $(RUNS),--runs $(RUNS)) $(if $(ONLY),--only $(ONLY)) \
              $(if $(filter 1,$(RT)),--rt) $(if $(PIN),--pin $(PIN))
bench: all
	@boot/ensure-deps.sh bench
	$(PYTHON) benches/runner/bench.py run $(BENCH_OPTS)

# The same, alternating with a Debian Linux guest running benches/linux/ on the same QEMU machine.
bench-compare: all
	@boot/ensure-deps.sh bench
	$(PYTHON) benches/runner/bench.py run --compare $(BENCH_OPTS)

# A/B: make experiment A="<tunables>" B="@<rev> <tunables>" [ONLY=... RUNS=... SMP=...]
experiment: all
	@boot/ensure-deps.sh bench
	$(PYTHON) benches/runner/bench.py experiment --a '$(A)' --b '$(B)' $(BENCH_OPTS)

bench-host:
	cargo run --release -p benches --bin executor-bench

# Scheduler trace of one benchmark (docs/benchmarking.md, "Scheduler trace"): boots once
# with bench=$(ONLY) trace=$(TRACE_CLASSES) (hard timeout), keeps the serial log, converts it.
TRACE_CLASSES ?= all
trace: deps all
	@test -n "$(ONLY)" || { echo "usage: make trace ONLY=<benchmark> [TRACE_CLASSES=poll,wake,...] [TUNABLES=\"idle=halt ...\"] [SMP=n]"; exit 2; }
	@mkdir -p $(BUILD)/trace
	@TIMEOUT=$${TRACE_TIMEOUT:-300} boot/qemu.sh $(KERNEL) $(INITRD) "bench=$(ONLY) trace=$(TRACE_CLASSES) $(TUNABLES)" \
		>$(BUILD)/trace/$(ONLY).log 2>&1; rc=$$?; [ $$rc = 33 ] || echo "make trace: QEMU exited with $$rc (log: $(BUILD)/trace/$(ONLY).log)"
	python3 benches/runner/trace.py $(BUILD)/trace/$(ONLY).log --json $(BUILD)/trace/$(ONLY).json --report $(BUILD)/trace/$(ONLY).txt

iso: kernel initrd
	@boot/ensure-deps.sh iso
	@boot/make-iso.sh "$(LIMINE_DIR)" $(KERNEL) $(INITRD) $(BUILD)/mello.iso

# The ISOs make test boots: mello.iso (menu) and mello-test.iso (boots the tests entry at once).
iso-test: iso
	@boot/make-iso.sh "$(LIMINE_DIR)" $(KERNEL) $(INITRD) $(BUILD)/mello-test.iso 2

debug: deps all
	@echo "QEMU waits for gdb on :1234. In another terminal: gdb -x boot/gdbinit"
	@TIMEOUT=0 boot/qemu.sh $(KERNEL) $(INITRD) "$(CMDLINE)" -s -S

clean:
	cargo clean
	rm -rf $(BUILD)
