#!/bin/sh
# /init of the QEMU guest that tests/usb_qemu.rs boots: attaches the simulated disks that
# `taxdisk-sim serve --usbip` exports on the host (10.0.2.2 under QEMU user networking) through
# the kernel's USB/IP virtual host controller (vhci-hcd), then drives them through libusb with
# the real `taxdisk --disk usb:SERIAL` commands. Everything it reports goes to the serial console
# as lines starting with "@@ "; the test reads them after the guest powered off.
# /etc/e2e.env (written by the test) sets MODULES, the ports, the serials and the secrets.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /var/run /w /c
. /etc/e2e.env

mark() { echo "@@ $*"; }
# run NAME COMMAND...: the command's output between markers, then its exit code.
run() {
    name=$1
    shift
    mark "run $name"
    "$@" >/tmp/out 2>&1
    rc=$?
    cat /tmp/out
    mark "rc $name $rc"
    return $rc
}
# device SERIAL: the sysfs folder of the USB device with this serial string, if attached.
device() {
    for d in /sys/bus/usb/devices/*; do
        if [ -f "$d/serial" ] && [ "$(cat "$d/serial")" = "$1" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}
# attach PORT SERIAL: imports bus id 1-1 from the exporter on PORT and waits (10 s at most)
# for the kernel to enumerate it; prints what the kernel read from its descriptors.
attach() {
    run "attach-$2" usbip --tcp-port "$1" attach -r 10.0.2.2 -b 1-1 || return 1
    for _ in $(seq 50); do
        if d=$(device "$2"); then
            mark "device $2 $(cat "$d/idVendor"):$(cat "$d/idProduct") speed $(cat "$d/speed") node /dev/bus/usb/$(printf %03d "$(cat "$d/busnum")")/$(printf %03d "$(cat "$d/devnum")") product $(cat "$d/product")"
            return 0
        fi
        sleep 0.2
    done
    mark "device-missing $2"
    return 1
}
# gone SERIAL: waits (10 s at most) until the device with this serial has left the bus.
gone() {
    for _ in $(seq 50); do
        if ! device "$1" >/dev/null; then
            mark "device-gone $1"
            return 0
        fi
        sleep 0.2
    done
    mark "device-stays $1"
    return 1
}

main() {
    for m in $MODULES; do
        insmod "/lib/modules/$m.ko" || mark "insmod-failed $m"
    done
    ip link set lo up
    ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
    mark "guest-up $(uname -r)"

    # The workflow disk: provisioned through the bureau, then invoicing over USB.
    attach "$USBIP_W" "$SERIAL_W" || return
    W="taxdisk --data /w --disk usb:$SERIAL_W --bureau http://10.0.2.2:$BUREAU_PORT"
    run init $W init --supervisor 陈主管 --password pw-admin-1 --address 厦门市 --phone 0592-1 \
        --bank 工商银行:4100021209200123456 || return
    run provision $W --bureau-admin-token-file /etc/admin.token provision \
        --taxpayer-id 91350200MA2XY1234B --company 厦门鹭岛科技 || return
    run login $W login --user 陈主管 --password pw-admin-1 || return
    run rolls $W rolls buy --kind normal --count 10 || return
    run issue $W issue --kind normal --buyer 买家 --item 办公用品:1060301000000000000:13%:1:100 || return
    # "issued normal CODE NUMBER (...": the invoice to verify.
    set -- $(grep '^issued ' /tmp/out)
    code=$3
    number=$4
    run list $W list || return
    run verify $W verify --kind normal --code "$code" --number "$number" --out /w/inv --pem /w/disk.pem || return
    run status $W status || return

    # Unplugged on the simulator's control channel: the guest loses the device; plugged in and
    # attached again: the same data folder finds the disk and goes on issuing.
    run unplug taxdisk-sim control --addr "10.0.2.2:$CONTROL_W" unplug || return
    gone "$SERIAL_W" || return
    run plug taxdisk-sim control --addr "10.0.2.2:$CONTROL_W" plug || return
    attach "$USBIP_W" "$SERIAL_W" || return
    run login-again $W login --user 陈主管 --password pw-admin-1 || return
    run issue-again $W issue --kind normal --buyer 买家 --item 办公用品:1060301000000000000:13%:1:100 || return
    run logout $W logout || return

    # The conformance disk: factory state, its own exporter; the suite over USB.
    attach "$USBIP_C" "$SERIAL_C" || return
    run conformance taxdisk --data /c --disk "usb:$SERIAL_C" conformance \
        --control "10.0.2.2:$CONTROL_C" --bureau-secret "$SECRET_C" --junit /c/junit.xml
    mark "junit-begin"
    cat /c/junit.xml
    echo
    mark "junit-end"
}

main
mark "done"
poweroff -f
