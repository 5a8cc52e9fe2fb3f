#!/bin/busybox sh
# /init of the Linux comparison guest (packed by build-initramfs.sh).
# Runs the benchmarks in /bench and prints the bench line format on the serial
# console, then powers off. Kernel command line: benches=a,b,c selects programs
# (default: all of /bench); benchcount=N overrides each program's sample count.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

list=""
count=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        benches=*) list=$(echo "${arg#benches=}" | tr ',' ' ') ;;
        benchcount=*) count=${arg#benchcount=} ;;
    esac
done
[ -z "$list" ] && list=$(ls /bench)

cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
echo "BENCHINFO os=linux cpus=$(nproc) kernel=$(uname -r) clocksource=${cs:-unknown}"
for b in $list; do
    if [ -x "/bench/$b" ]; then
        start=$(cut -d' ' -f1 /proc/uptime)
        "/bench/$b" $count
        rc=$?
        end=$(cut -d' ' -f1 /proc/uptime)
        [ $rc -ne 0 ] && echo "BENCHERR name=$b exit=$rc"
        echo "bench $b took ${start}..${end} s uptime"
    else
        echo "BENCHERR name=$b missing"
    fi
done
echo BENCHDONE
sync
poweroff -f
