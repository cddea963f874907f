#!/usr/bin/env bash
# Boot an hv image under QEMU. Also the cargo runner for the bare-metal targets.
#
#   qemu-runner.sh IMAGE [EXTRA QEMU ARGS...]
#
# IMAGE is an hv-kernel ELF (as cargo builds it) or an AArch64 Image. AArch64
# runs on `-M virt,virtualization=on,gic-version=3 -cpu max` (hv enters at
# EL2); x86_64 on `-M q35` through the PVH entry of the ELF. The serial port is
# on stdio. Environment:
#   HV_SMP      CPUs (default 2)          HV_MEM      RAM (default 512M)
#   HV_TIMEOUT  seconds before QEMU is stopped (default 120; 0 = none)
#   HV_GDB=1    start QEMU's gdbstub on :1234 and wait for the debugger
#   HV_QEMU_EL1=1  (AArch64) run without virtualization=on, entering at EL1
#   HV_BOARD=raspi4b|imx8mp-evk  (AArch64) run on QEMU's Raspberry Pi 4 or
#               i.MX 8M Plus EVK model instead of virt, with HV_DTB=the
#               board's device tree (both get 4 CPUs and 2 GiB; on the Pi a
#               reset, hv's power-off there, ends the run)
#   HV_QEMU_MICROVM=1  (x86_64) run on -M microvm (the x86 test guest's
#               plain-QEMU reference: virtio-mmio transports version 2;
#               an ACPI power-off, status 0, counts as clean)
# Exit status: 0 when the image powered off cleanly (PSCI SYSTEM_OFF, or the
# x86 success code on isa-debug-exit); the image's failure code otherwise;
# 124 on timeout; 2 on a usage or set-up error.
set -euo pipefail

die() { echo "qemu-runner: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: qemu-runner.sh IMAGE [QEMU ARGS...]"
case "$1" in -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
image=$1; shift
[ -f "$image" ] || die "no such image: $image"

smp=${HV_SMP:-2}
mem=${HV_MEM:-512M}
timeout_s=${HV_TIMEOUT:-120}

# Which architecture: from the ELF header's e_machine, or the arm64 Image magic.
magic=$(head -c 4 "$image" | od -An -tx1 | tr -d ' \n')
if [ "$magic" = "7f454c46" ]; then
    machine=$(od -An -j18 -N2 -tu2 "$image" | tr -d ' ')
    case "$machine" in
        183) arch=aarch64 ;;
        62) arch=x86_64 ;;
        *) die "$image: unsupported ELF machine $machine" ;;
    esac
elif [ "$(od -An -j56 -N4 -c "$image" | tr -d ' \n')" = "ARMd" ]; then
    arch=aarch64
else
    die "$image: neither an ELF nor an arm64 Image"
fi

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: install QEMU (cargo xtask run installs it on Debian as root; see README)"; }

args=()
if [ "$arch" = aarch64 ]; then
    need qemu-system-aarch64
    if [ "$magic" = "7f454c46" ]; then
        # QEMU gives an ELF no DTB pointer in x0; boot the flat Image instead.
        sysroot=$(rustc --print sysroot)
        objcopy=$(ls "$sysroot"/lib/rustlib/*/bin/llvm-objcopy 2>/dev/null | head -n1)
        [ -n "$objcopy" ] || die "llvm-objcopy missing: rustup component add llvm-tools"
        "$objcopy" -O binary "$image" "$image.img"
        image="$image.img"
    fi
    case "${HV_BOARD:-virt}" in
    virt)
        machine_opt="virt,virtualization=on,gic-version=3"
        [ "${HV_QEMU_EL1:-0}" = 1 ] && machine_opt="virt,gic-version=3"
        args=(qemu-system-aarch64 -M "$machine_opt" -cpu max -smp "$smp" -m "$mem"
              -semihosting-config enable=on,target=native -kernel "$image") ;;
    raspi4b)
        [ -f "${HV_DTB:-}" ] || die "HV_BOARD=raspi4b needs HV_DTB, the board's device tree"
        # The Pi 4's console (its DTB's stdout-path) is the mini UART,
        # QEMU's second serial port.
        args=(qemu-system-aarch64 -M raspi4b -dtb "$HV_DTB" -no-reboot
              -serial null -serial mon:stdio
              -semihosting-config enable=on,target=native -kernel "$image") ;;
    imx8mp-evk)
        [ -f "${HV_DTB:-}" ] || die "HV_BOARD=imx8mp-evk needs HV_DTB, the board's device tree"
        # The EVK's console (stdout-path) is UART2, QEMU's second serial
        # port; QEMU answers PSCI itself.
        args=(qemu-system-aarch64 -M imx8mp-evk -smp 4 -m 2G -dtb "$HV_DTB"
              -serial null -serial mon:stdio
              -semihosting-config enable=on,target=native -kernel "$image") ;;
    *) die "unknown HV_BOARD ${HV_BOARD}: virt, raspi4b or imx8mp-evk" ;;
    esac
else
    need qemu-system-x86_64
    machine_opt=q35
    extra=(-nic none)
    if [ "${HV_QEMU_MICROVM:-0}" = 1 ]; then
        machine_opt="microvm,pit=off,pic=off,rtc=off"
        extra=(-global virtio-mmio.force-legacy=false)
    fi
    args=(qemu-system-x86_64 -M "$machine_opt" -cpu max -smp "$smp" -m "$mem" -no-reboot
          "${extra[@]}" -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image")
fi
args+=(-nographic "$@")
if [ "${HV_GDB:-0}" = 1 ]; then
    args+=(-s -S)
    timeout_s=0
    echo "qemu-runner: waiting for gdb on localhost:1234 (target remote :1234)" >&2
fi

set +e
if [ "$timeout_s" != 0 ]; then
    timeout --foreground -k 5 "$timeout_s" "${args[@]}"
else
    "${args[@]}"
fi
status=$?
set -e

if [ $status = 124 ]; then
    echo "qemu-runner: timed out after ${timeout_s}s" >&2
    exit 124
fi
if [ "$arch" = x86_64 ]; then
    # isa-debug-exit turns a write of v into status (v << 1) | 1; hv writes
    # 0x10 for success. A plain 0 means QEMU stopped some other way (e.g. a
    # triple fault with -no-reboot).
    case $status in
        33) exit 0 ;;
        # On microvm a guest powers off through ACPI (QEMU exits 0).
        0) [ "${HV_QEMU_MICROVM:-0}" = 1 ] && exit 0
           echo "qemu-runner: QEMU stopped without hv's exit code (triple fault?)" >&2; exit 1 ;;
        *) exit $status ;;
    esac
fi
exit $status
