# SPDX-License-Identifier: BSD-2-Clause
"""Test harness for pam_vivo's integration tests.

Runs as root inside a private mount namespace and a private network
namespace (tests/run-integration.sh starts it with `unshare --mount --net
--propagation private`; it refuses to start in the machine's network
namespace, where vpcd would take virtual cards from any host). Inside:

- only the loopback interface, brought up here: vpcd listens on every
  address of this namespace, and that is 127.0.0.1 alone;
- /run is a fresh tmpfs: pcscd's socket directory /run/pcscd is ours alone,
  and /run/vivotest holds everything else (root-owned, 0755, so the
  product's parent-directory checks pass without any test-only knob);
- /dev is a fresh tmpfs with the real null/zero/full/random/urandom/tty
  bound in, and /dev/log is a datagram socket this harness reads: the
  module's pam_syslog and the helper's syslog lines land here;
- /etc/passwd, /etc/group and /etc/shadow are copies with test users;
- a private pcscd runs with vpcd on a random free port (two slots: P, P+1),
  the driver from VPCD_PKG (vsmartcard-vpcd unpacked by
  tests/install-deps.sh, never installed on the machine).

The product binaries are copied to /run/vivotest/bin so that a non-root
caller can execute them whatever the checkout's permissions are.
"""

import os
import random
import shutil
import socket
import subprocess
import threading
import time

ROOT = "/run/vivotest"
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
# the build under test (make check sets it; a sanitizer build is elsewhere)
BUILD = os.environ.get("VIVO_BUILD") or os.path.join(TOP, "build")
VIMPLANT_SRC = os.path.join(TOP, "tests", "vimplant", "vimplant.py")
# run from a copy: a non-root caller must be able to start it whatever the
# checkout's permissions are
VIMPLANT = f"{ROOT}/bin/vimplant.py"
PYTHON = "/usr/bin/python3"
# The Debian package vsmartcard-vpcd, unpacked (dpkg-deb -x) by
# tests/install-deps.sh and not installed: installed, it would give the
# system's pcscd a virtual reader open to the network. This is the one
# definition of where it is (install-deps.sh, run-integration.sh,
# test-package.sh and tests/vimplant/selftest.sh ask this module);
# VIVO_VPCD_PKG overrides it (test-package.sh runs the tests from a copy
# of the tree).
VPCD_PKG = os.environ.get("VIVO_VPCD_PKG") or os.path.join(
    TOP, "build", "deps", "vsmartcard-vpcd")
VPCD_DRIVER = os.path.join(VPCD_PKG, "usr/lib/pcsc/drivers/serial/libifdvpcd.so")

USERS = {"alice": 60001, "bob": 60002, "carol": 60003}


def machine_netns():
    """/proc/PID/ns/net of the machine's network namespace: PID 1's, or,
    where that is not readable (a sandboxed init), the one of our farthest
    ancestor whose namespaces can be read."""
    best, pid = "/proc/1/ns/net", os.getpid()
    if os.access(best, os.R_OK):
        return best
    while pid > 1:
        path = f"/proc/{pid}/ns/net"
        try:
            os.stat(path)
            best = path
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return best


class Skip(Exception):
    """Raised by a test that cannot run here for a reason that is nobody's
    fault (see the rule in run.py): the runner prints `skip NAME: reason`
    and counts it apart from passes and failures. A missing program that
    tests/install-deps.sh installs is not such a reason: use require()."""


def require(*programs):
    """Fail, never skip, when a program that tests/install-deps.sh
    installs is missing (a name on PATH or an absolute path)."""
    missing = [p for p in programs
               if not (os.access(p, os.X_OK) if os.path.isabs(p)
                       else shutil.which(p))]
    if missing:
        raise AssertionError(f"missing {', '.join(missing)}: "
                             "tests/install-deps.sh installs it (run it as root)")


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


class SyslogSink:
    """Collects what is sent to /dev/log."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            data = self.sock.recv(65536)
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace"))

    def mark(self):
        with self.lock:
            return len(self.lines)

    def since(self, mark):
        time.sleep(0.05)  # let in-flight datagrams arrive
        with self.lock:
            return list(self.lines[mark:])


class Implant:
    """A running virtual implant (tests/vimplant/vimplant.py)."""

    def __init__(self, proc, log):
        self.proc = proc
        self.log = log

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def apdus(self):
        """C-APDUs the implant received, as upper-case hex strings."""
        try:
            with open(self.log) as f:
                return [l[2:].strip().upper() for l in f if l.startswith("> ")]
        except FileNotFoundError:
            return []


class Harness:
    def __init__(self):
        self.port = None
        self.pcscd = None
        self.implants = []
        self.n = 0
        self._setup_net()
        self._setup_mounts()
        self.syslog = SyslogSink("/dev/log")
        self._setup_users()
        self._install_binaries()

    # ---- namespace set-up ------------------------------------------------
    def _setup_net(self):
        """vpcd listens on every address: refuse to start anywhere but in a
        network namespace of our own with nothing but a loopback."""
        names = sorted(n for _, n in socket.if_nameindex())
        if os.stat("/proc/self/ns/net").st_ino == \
                os.stat(machine_netns()).st_ino or names != ["lo"]:
            raise RuntimeError("not in a private network namespace (unshare "
                               "--net): vpcd would accept virtual cards from "
                               f"other hosts (interfaces: {names})")
        sh("ip", "link", "set", "lo", "up")

    def _setup_mounts(self):
        sh("mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run")
        os.makedirs(ROOT + "/dev.orig")
        sh("mount", "--rbind", "/dev", ROOT + "/dev.orig")
        sh("mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/dev")
        for n in ("null", "zero", "full", "random", "urandom", "tty"):
            open("/dev/" + n, "w").close()
            sh("mount", "--bind", ROOT + "/dev.orig/" + n, "/dev/" + n)
        for n, t in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                     ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(t, "/dev/" + n)
        # pseudo-terminals (the sudo test talks to sudo through one)
        os.makedirs("/dev/pts")
        sh("mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620",
           "devpts", "/dev/pts")
        os.symlink("pts/ptmx", "/dev/ptmx")
        os.makedirs("/dev/shm", mode=0o1777)
        os.chmod("/dev/shm", 0o1777)
        # what the package's tmpfiles.d entry makes at boot (the registry
        # of requests waiting for a tap; a root-run request would make it
        # too, but a screen locker may be the first caller)
        os.makedirs("/run/pam_vivo")
        os.chmod("/run/pam_vivo", 0o1777)
        for d in ("etc", "store", "home", "bin", "tmp", "pam.d", "reader"):
            os.makedirs(os.path.join(ROOT, d), mode=0o755)
        os.chmod(ROOT + "/tmp", 0o1777)
        with open(ROOT + "/pam.d/other", "w") as f:
            f.write("auth required pam_deny.so\n")

    def _setup_users(self):
        for name, extra in (("passwd", lambda u, i: f"{u}:x:{i}:{i}:{u}:{ROOT}/home/{u}:/bin/sh\n"),
                            ("group", lambda u, i: f"{u}:x:{i}:\n"),
                            ("shadow", lambda u, i: f"{u}:!:19000:0:99999:7:::\n")):
            with open(f"/etc/{name}") as f:
                lines = [l for l in f if l.split(":")[0] not in USERS]
            path = f"{ROOT}/etc/{name}"
            with open(path, "w") as f:
                f.writelines(lines)
                for u, i in USERS.items():
                    f.write(extra(u, i))
            os.chmod(path, 0o640 if name == "shadow" else 0o644)
            sh("mount", "--bind", path, f"/etc/{name}")
        for u, i in USERS.items():
            self.make_home(u)

    def make_home(self, user):
        uid = USERS[user]
        home = f"{ROOT}/home/{user}"
        if os.path.exists(home):
            shutil.rmtree(home)
        os.makedirs(home, mode=0o700)
        os.chown(home, uid, uid)
        return home

    def _install_binaries(self):
        for b in ("pam_vivo.so", "vivo-helper", "vivo-enroll"):
            shutil.copy2(os.path.join(BUILD, b), f"{ROOT}/bin/{b}")
            os.chmod(f"{ROOT}/bin/{b}", 0o755)
        shutil.copy2(VIMPLANT_SRC, VIMPLANT)
        os.chmod(VIMPLANT, 0o755)
        # its CTAP2 half, imported from next to it when CTAP2 is on
        shutil.copy2(os.path.join(os.path.dirname(VIMPLANT_SRC),
                                  "vimplant_ctap2.py"),
                     os.path.join(os.path.dirname(VIMPLANT), "vimplant_ctap2.py"))
        shutil.copy2(os.path.join(BUILD, "tests", "pamdrive"), f"{ROOT}/bin/pamdrive")
        os.chmod(f"{ROOT}/bin/pamdrive", 0o755)
        self.module = f"{ROOT}/bin/pam_vivo.so"
        self.helper = f"{ROOT}/bin/vivo-helper"
        self.enroll_bin = f"{ROOT}/bin/vivo-enroll"
        self.pamdrive = f"{ROOT}/bin/pamdrive"

    # ---- pcscd -----------------------------------------------------------
    def start_pcscd(self, tries=5):
        for _ in range(tries):
            self.port = random.randrange(20000, 60000, 2)
            with open(f"{ROOT}/reader/vpcd", "w") as f:
                f.write('FRIENDLYNAME "Virtual PCD"\n'
                        f"DEVICENAME /dev/null:{self.port}\n"
                        f"LIBPATH {VPCD_DRIVER}\n"
                        f"CHANNELID {self.port}\n")
            os.makedirs("/run/pcscd", exist_ok=True)
            self.pcscd = subprocess.Popen(
                ["pcscd", "--foreground", "--config", f"{ROOT}/reader/vpcd"],
                stdout=open(f"{ROOT}/pcscd.log", "a"), stderr=subprocess.STDOUT)
            if self._wait_reader():
                return
            self.stop_pcscd()
        raise RuntimeError("pcscd with vpcd did not come up (see "
                           f"{ROOT}/pcscd.log)")

    def _wait_reader(self, secs=5.0):
        """vpcd listens on the port once pcscd loaded it; a clash fails
        quietly, so check that the port takes a connection and that pcscd
        lists the reader."""
        end = time.time() + secs
        while time.time() < end:
            if os.path.exists("/run/pcscd/pcscd.comm"):
                r = sh("pcsc_scan", "-r", check=False, capture_output=True,
                       text=True, timeout=5)
                if "Virtual PCD" in r.stdout:
                    return True
            time.sleep(0.1)
        return False

    def stop_pcscd(self):
        if self.pcscd is not None and self.pcscd.poll() is None:
            self.pcscd.terminate()
            try:
                self.pcscd.wait(5)
            except subprocess.TimeoutExpired:
                self.pcscd.kill()
                self.pcscd.wait()
        self.pcscd = None
        for f in ("/run/pcscd/pcscd.comm", "/run/pcscd/pcscd.pid"):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass

    # ---- implants --------------------------------------------------------
    def implant_args(self, personality="ntag216", uid=None, slot=0, delay=0.0,
                     hold=None, extra=()):
        self.n += 1
        log = f"{ROOT}/tmp/implant{self.n}.log"
        args = [PYTHON, VIMPLANT, "--port", str(self.port + slot),
                "--personality", personality, "--delay", str(delay),
                "--log", log]
        if uid is not None:
            args += ["--uid", uid]
        if hold is not None:
            args += ["--hold", str(hold)]
        args += list(extra)
        return args, log

    def implant(self, wait_present=True, **kw):
        """Start an implant now (it taps after `delay`)."""
        args, log = self.implant_args(**kw)
        ready = log + ".ready"
        p = subprocess.Popen(args + ["--ready-file", ready],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        imp = Implant(p, log)
        self.implants.append(imp)
        if wait_present:
            end = time.time() + 5
            while not os.path.exists(ready) and time.time() < end:
                time.sleep(0.02)
            time.sleep(0.6)  # pcscd polls presence every 400 ms
        return imp

    def tap_command(self, **kw):
        """A shell command that taps an implant (for pamdrive --on-info)."""
        args, log = self.implant_args(**kw)
        return " ".join(args) + " >/dev/null 2>&1", log

    def clear_readers(self):
        """Remove every virtual chip and wait until pcscd saw it go."""
        for imp in self.implants:
            imp.stop()
        self.implants = []
        # implants started through pamdrive --on-info are not our children:
        # find them by our own vpcd ports, never touch anyone else's
        for port in (self.port, self.port + 1):
            sh("pkill", "-f", f"vimplant.py --port {port} ", check=False)
        time.sleep(0.5)

    # ---- files -----------------------------------------------------------
    def config(self, name="pam_vivo.conf", owner=0, mode=0o644, **kv):
        """Write a config; keyword values are libconfig literals."""
        settings = {"store": f'"{ROOT}/store"', "methods": '[ "uid" ]',
                    "timeout": "3"}
        settings.update(kv)
        path = f"{ROOT}/etc/{name}"
        with open(path, "w") as f:
            for k, v in settings.items():
                if v is not None:
                    f.write(f"{k} = {v};\n")
        os.chown(path, owner, owner)
        os.chmod(path, mode)
        return path

    def service(self, name="vivo", args="", control="required"):
        cfg = f"config={ROOT}/etc/pam_vivo.conf" if "config=" not in args else ""
        path = f"{ROOT}/pam.d/{name}"
        with open(path, "w") as f:
            f.write(f"auth {control} {self.module} helper={self.helper} "
                    f"{cfg} {args}\n")
        os.chmod(path, 0o644)
        return name

    # ---- running things --------------------------------------------------
    def _as(self, user):
        if user is None:
            return []
        return ["setpriv", f"--reuid={user}", f"--regid={user}",
                "--init-groups", "--"]

    def pam_args(self, user, service="vivo", rhost=None, on_info=None,
                 conv="ok", as_user=None, tty=None, ruser=None):
        args = self._as(as_user) + [self.pamdrive, "--confdir", f"{ROOT}/pam.d",
                                    "--service", service, "--user", user,
                                    "--conv", conv]
        for opt, v in (("--rhost", rhost), ("--tty", tty), ("--ruser", ruser),
                       ("--on-info", on_info)):
            if v is not None:
                args += [opt, v]
        return args

    def pam(self, user, service="vivo", rhost=None, on_info=None, conv="ok",
            as_user=None, env=None, timeout=60, pin=None, answer=None,
            silent=False, putenv=None, session=False):
        args = self._as(as_user) + [self.pamdrive, "--confdir", f"{ROOT}/pam.d",
                                    "--service", service, "--user", user,
                                    "--conv", conv]
        if pin is not None:
            args += ["--pin", pin]
        if answer is not None:
            args += ["--answer", answer]
        if silent:
            args += ["--silent"]
        if putenv is not None:
            args += ["--putenv", putenv]
        if session:
            args += ["--session"]
        if rhost is not None:
            args += ["--rhost", rhost]
        if on_info is not None:
            args += ["--on-info", on_info]
        mark = self.syslog.mark()
        r = sh(*args, check=False, capture_output=True, text=True,
               timeout=timeout, env=env if env is not None else {"PATH": "/usr/bin:/bin"})
        return PamResult(r, self.syslog.since(mark))

    def enroll(self, *args, as_user=None, config=None, input=None, timeout=60):
        cmd = self._as(as_user) + [self.enroll_bin]
        cmd += ["--config", config or f"{ROOT}/etc/pam_vivo.conf"]
        cmd += list(args)
        return sh(*cmd, check=False, capture_output=True, text=True,
                  input=input, timeout=timeout, env={"PATH": "/usr/bin:/bin"})

    def enroll_with_tap(self, args, chip, stdin="", as_user=None, hold=3.0,
                        config=None):
        """Run `vivo-enroll ARGS`; once it has printed its two opening lines
        (what it does, then "Hold the implant..."), tap `chip` (implant()
        keyword arguments). Returns (rc, stdout, stderr)."""
        cmd = self._as(as_user) + [self.enroll_bin, "--config",
                                   config or f"{ROOT}/etc/pam_vivo.conf"]
        p = subprocess.Popen(cmd + list(args), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={"PATH": "/usr/bin:/bin"})
        try:
            p.stdin.write(stdin)
            p.stdin.close()
        except BrokenPipeError:  # it refused before reading its input
            pass
        p.stdin = None  # communicate() must not touch it again
        head = p.stdout.readline() + p.stdout.readline()
        imp = self.implant(hold=hold, wait_present=False, **chip)
        out, err = p.communicate(timeout=30)
        imp.stop()
        self.clear_readers()
        return p.returncode, head + out, err

    def store_path(self, user, public=False):
        """The protected file (hmac, uid), or with public=True the public
        part of the system store (u2f)."""
        return f"{ROOT}/store/.public/{user}" if public else f"{ROOT}/store/{user}"

    def lock_passwords(self):
        """The test users' shadow entries as _setup_users wrote them
        (locked, "!"): a test that gave one a password leaves nothing for
        the next. Written in place: the bind mount stays."""
        path = f"{ROOT}/etc/shadow"
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            for l in lines:
                parts = l.split(":")
                if parts[0] in USERS:
                    parts[1] = "!"
                    l = ":".join(parts)
                f.write(l)

    def reset_store(self):
        self.lock_passwords()
        shutil.rmtree(f"{ROOT}/store")
        os.makedirs(f"{ROOT}/store", mode=0o755)
        for u in USERS:
            self.make_home(u)

    def close(self):
        self.clear_readers()
        self.stop_pcscd()


class PamResult:
    """pamdrive's outcome; `proc` needs .stdout and .stderr (text)."""

    def __init__(self, proc, log):
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.log = log
        self.code = None
        self.elapsed_ms = None
        self.info = []
        self.errors = []
        self.prompts = []
        self.echo_prompts = []
        self.user = None
        for line in proc.stdout.splitlines():
            if line.startswith("result: "):
                self.code = line.split()[2]
            elif line.startswith("elapsed_ms: "):
                self.elapsed_ms = int(line.split()[1])
            elif line.startswith("conv: info: "):
                self.info.append(line[len("conv: info: "):])
            elif line.startswith("conv: error: "):
                self.errors.append(line[len("conv: error: "):])
            elif line.startswith("user: "):
                self.user = line[len("user: "):]
            elif line.startswith("conv: prompt-echo: "):
                self.echo_prompts.append(line[len("conv: prompt-echo: "):])
            elif line.startswith("conv: prompt-noecho: "):
                self.prompts.append(line[len("conv: prompt-noecho: "):])

    def __repr__(self):
        return (f"<PAM {self.code} in {self.elapsed_ms} ms info={self.info} "
                f"errors={self.errors} log={self.log} stderr={self.stderr!r}>")
