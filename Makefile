# mello: make run | make test | make bench | make iso | make debug | make clean
#
# Variables: SMP (default 8), MEM (512M), ACCEL (tcg|kvm), CMDLINE (run),
#            LIMINE_DIR (for make iso), SMP_LIST (CPU counts for make test).

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

.PHONY: all deps toolchain kernel usr initrd run test test-host test-loom test-qemu bench bench-compare bench-host iso debug clean

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

$(MKINITRD): $(wildcard kernel/kcore/src/*.rs kernel/kcore/src/bin/*.rs)
	cargo build -p kcore --features std --bin mkinitrd --release

# The initrd: every usr/ program plus kernel.sym (symbols for panic backtraces).
initrd: kernel usr $(MKINITRD)
	@mkdir -p $(BUILD)
	$(MKINITRD) --ksyms $(KERNEL) $(BUILD)/kernel.sym
	$(MKINITRD) $(INITRD) $(addprefix $(OUT)/,$(USR_BINS)) $(BUILD)/kernel.sym

run: deps all
	@echo "Booting mello: $(SMP) CPUs, $(MEM), $(ACCEL). Quit with Ctrl-A then X."
	@boot/qemu.sh $(KERNEL) $(INITRD) "$(CMDLINE)"

test: deps all
	@boot/run-tests.sh $(KERNEL) $(INITRD)

test-host:
	cargo test

# Loom models of the executor's state word and idle handshake (executor/tests/loom_*.rs):
# ~60 s from cold (its own target dir, loom builds), ~2 s of model checking.
test-loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p executor --release --test loom_state --test loom_idle

# Benchmarks in QEMU (see docs/benchmarking.md): RUNS=n and ONLY=<metric> optional.
bench: all
	@boot/ensure-deps.sh bench
	python3 benches/runner/bench.py run --smp $(SMP) --accel $(ACCEL) $(if $(RUNS),--runs $(RUNS)) $(if $(ONLY),--only $(ONLY))

# The same, plus a Debian Linux guest running benches/linux/ on the same QEMU machine.
bench-compare: all
	@boot/ensure-deps.sh bench
	python3 benches/runner/bench.py run --compare --smp $(SMP) --accel $(ACCEL) $(if $(RUNS),--runs $(RUNS)) $(if $(ONLY),--only $(ONLY))

bench-host:
	cargo run --release -p benches --bin executor-bench

iso: kernel initrd
	@boot/make-iso.sh "$(LIMINE_DIR)" $(KERNEL) $(INITRD) $(BUILD)/mello.iso

debug: deps all
	@echo "QEMU waits for gdb on :1234. In another terminal: gdb -x boot/gdbinit"
	@TIMEOUT=0 boot/qemu.sh $(KERNEL) $(INITRD) "$(CMDLINE)" -s -S

clean:
	cargo clean
	rm -rf $(BUILD)
