# SPDX-License-Identifier: BSD-2-Clause
"""The tests' virtual reader is the tests' alone. vpcd (vsmartcard's
virtual reader driver) listens on every address of its network namespace:
whoever connects to its port presents a "chip". So:

- the system's pcscd must have no vpcd reader that we caused: no file in
  /etc/reader.conf.d that is vsmartcard-vpcd's shipped default (which
  listens on ports 35963/35964 of every address) or that names our
  unpacked driver (a vpcd entry the owner wrote differs from the default
  and is theirs to keep);
- the harness's own vpcd takes a connection from inside the test
  namespace, and none from the machine's network namespace (PID 1's, or
  that of the farthest ancestor we may see, see harness.machine_netns):
  not on 127.0.0.1 and not on any of the machine's addresses;
- the tests' pcscd loaded the unpacked driver, not an installed one.
"""

import glob
import hashlib
import os
import subprocess

from harness import VPCD_DRIVER, VPCD_PKG, machine_netns
from test_foundation import check

# Connects to PORT on each ADDRESS; prints "open ADDRESS" or
# "closed ADDRESS WHY" per address. A connection is a tap on the reader:
# it is closed at once.
PROBE = r"""
import socket, sys
port = int(sys.argv[1])
for a in sys.argv[2:]:
    try:
        ai = socket.getaddrinfo(a, port, type=socket.SOCK_STREAM)[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(ai[4])
        s.close()
        print("open", a, flush=True)
    except OSError as e:
        print("closed", a, type(e).__name__, flush=True)
"""


def setup(h):
    h.clear_readers()


def _probe(port, addrs, outside):
    cmd = ["/usr/bin/python3", "-c", PROBE, str(port)] + addrs
    if outside:
        cmd = ["nsenter", f"--net={machine_netns()}"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "the probe ran", (cmd, r.stdout, r.stderr))
    return dict((l.split()[1], l) for l in r.stdout.splitlines())


def _machine_addresses():
    """Every address of the machine's network namespace, loopback too."""
    r = subprocess.run(["nsenter", f"--net={machine_netns()}", "ip", "-o",
                        "addr", "show"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "ip addr show in the machine's namespace",
          r.stderr)
    addrs = ["127.0.0.1", "::1"]
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 4 or f[2] not in ("inet", "inet6"):
            continue
        a = f[3].split("/")[0]
        if a.startswith("fe80:"):
            a += "%" + f[1].rstrip(":").split("@")[0]
        if a not in addrs:
            addrs.append(a)
    return addrs


def test_network_01_no_vpcd_of_ours_for_the_system_pcscd(h):
    default = os.path.join(VPCD_PKG, "etc/reader.conf.d/vpcd")
    check(os.path.isfile(default), "the unpacked vsmartcard-vpcd has its "
          "default reader.conf (run tests/install-deps.sh)", default)
    with open(default, "rb") as f:
        defaults = {hashlib.md5(f.read()).hexdigest()}
    # the md5 dpkg recorded, if the package is installed (older versions of
    # tests/install-deps.sh installed it)
    r = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}\n",
                        "vsmartcard-vpcd"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0].startswith("/etc/reader.conf"):
            defaults.add(f[1])
    ours = os.path.realpath(VPCD_PKG)
    bad = []
    for path in sorted(glob.glob("/etc/reader.conf.d/*") + ["/etc/reader.conf"]):
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if hashlib.md5(data).hexdigest() in defaults:
            bad.append(f"{path} is vsmartcard-vpcd's default")
        libs = [l.split(None, 1)[1].strip() for l in
                data.decode("utf-8", "replace").splitlines()
                if l.strip().startswith("LIBPATH") and len(l.split()) > 1]
        for lib in libs:
            if os.path.realpath(lib).startswith(ours + "/") or \
                    "/build/deps/" in lib:
                bad.append(f"{path} loads our unpacked driver {lib}")
    check(not bad, "the system's pcscd must have no virtual reader of ours "
          "(tests/install-deps.sh moves the default away)", bad)


def test_network_02_vpcd_reachable_from_the_test_namespace_only(h):
    ports = [h.port, h.port + 1]
    for port in ports:
        inside = _probe(port, ["127.0.0.1"], outside=False)
        h.clear_readers()
        check(inside.get("127.0.0.1", "").startswith("open "),
              f"vpcd takes a connection on 127.0.0.1:{port} inside", inside)
    addrs = _machine_addresses()
    for port in ports:
        outside = _probe(port, addrs, outside=True)
        h.clear_readers()
        check(len(outside) == len(addrs), "every address probed",
              (addrs, outside))
        opened = [l for l in outside.values() if l.startswith("open ")]
        check(not opened, f"vpcd's port {port} must not be reachable from "
              "the machine's network namespace", opened)
    print(f"     probed from {machine_netns()}: {', '.join(addrs)}")
    check(os.stat("/proc/self/ns/net").st_ino !=
          os.stat(machine_netns()).st_ino,
          "the tests run in a private network namespace")


def test_network_03_pcscd_loaded_the_unpacked_driver(h):
    with open(f"/proc/{h.pcscd.pid}/maps") as f:
        maps = f.read()
    check(os.path.realpath(VPCD_DRIVER) in maps,
          "the tests' pcscd loaded the driver unpacked by install-deps",
          VPCD_DRIVER)
    system = [l for l in maps.splitlines()
              if " /usr/lib/pcsc/drivers/serial/libifdvpcd" in l]
    check(not system, "and not an installed vsmartcard-vpcd", system)
