# SPDX-License-Identifier: BSD-2-Clause
"""The Debian pam-auth-update profile (debian/pam-configs/vivo), end to end.

pam-auth-update turns the profile into /etc/pam.d/common-auth lines; this
module checks those lines as text (pam_vivo first in the Primary block,
before pam_unix, jumping over pam_deny on success) and then runs them
through the real libpam: a tap that proves the enrolled identity must
succeed; anything else (no tap, another chip, no enrollment, a broken
configuration) must fall through to pam_unix and its Password prompt.

Two modes:

- source (the default, e.g. from run.py): pam-auth-update runs in a nested
  private mount namespace over copies of /etc/pam.d, /var/lib/pam,
  /usr/share/pam-configs and the debconf database, with the profile from
  this tree; the generated pam_vivo line keeps its control field exactly and
  gets this build's module, helper= and config= (the rest is unchanged);
- installed (tests/test-package.sh, VIVO_PKGTEST_INSTALLED=1): the .debs
  were installed with dpkg into overlays of /etc, /usr and /var in a
  private mount namespace, the profile was enabled there, and
  VIVO_PKGTEST_COMMON_AUTH names the resulting common-auth. Its lines are
  used verbatim: the packaged module from /lib/<multiarch>/security, the
  helper path compiled into it, the default /etc/security/pam_vivo.conf
  (rewritten for the test - only when /etc is such an overlay) and the
  packaged /usr/bin/vivo-enroll.
"""

import os
import re
import shutil
import subprocess

from harness import ROOT, TOP

ENROLLED = "04A1B2C3D4E5F6"
OTHER = "04112233445566"
CUE = "Hold your implant to the reader..."
PASSWORD_PROMPT = "conv: prompt-noecho: Password: "
SERVICE = "pkgtest"

INSTALLED = os.environ.get("VIVO_PKGTEST_INSTALLED") == "1"
SYSTEM_CONFIG = "/etc/security/pam_vivo.conf"

_generated = {}


def check(cond, what, obj=None):
    if not cond:
        raise AssertionError(what + (f": {obj!r}" if obj is not None else ""))


def _etc_is_overlay():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[4] == "/etc" and fields[sep + 1] == "overlay":
                return True
    return False


# ---- common-auth as pam-auth-update makes it -------------------------------
GENERATE = r"""
set -eu
t=$1; profile=$2
for d in /etc/pam.d /var/lib/pam /usr/share/pam-configs /var/cache/debconf; do
    mkdir -p "$t/copy$d"
    cp -a "$d/." "$t/copy$d/"
    mount --bind "$t/copy$d" "$d"
done
rm -f /usr/share/pam-configs/vivo
cp /etc/pam.d/common-auth "$t/before"
cp "$profile" /usr/share/pam-configs/vivo
export DEBIAN_FRONTEND=noninteractive
pam-auth-update --package
cp /etc/pam.d/common-auth "$t/after-package"
pam-auth-update --enable vivo
cp /etc/pam.d/common-auth "$t/enabled"
pam-auth-update --disable vivo
cp /etc/pam.d/common-auth "$t/disabled"
pam-auth-update --enable vivo
pam-auth-update --package --remove vivo
cp /etc/pam.d/common-auth "$t/removed"
"""


def generated():
    """{'enabled': text, ...}: from VIVO_PKGTEST_COMMON_AUTH, or made here
    with pam-auth-update in a nested private mount namespace."""
    if _generated:
        return _generated
    given = os.environ.get("VIVO_PKGTEST_COMMON_AUTH")
    if given:
        with open(given) as f:
            _generated["enabled"] = f.read()
        return _generated
    profile = os.environ.get("VIVO_PKGTEST_PROFILE",
                             os.path.join(TOP, "debian", "pam-configs", "vivo"))
    t = f"{ROOT}/tmp/pau"
    shutil.rmtree(t, ignore_errors=True)
    os.makedirs(t)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "sh", "-c", GENERATE, "sh", t, profile],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "pam-auth-update failed", (r.stdout, r.stderr))
    for name in ("before", "after-package", "enabled", "disabled", "removed"):
        with open(f"{t}/{name}") as f:
            _generated[name] = f.read()
    check(_generated["enabled"] != _generated["before"],
          "pam-auth-update --enable vivo changed nothing (local modifications "
          "to /etc/pam.d/common-auth make it refuse)", r.stderr)
    return _generated


def auth_lines(text):
    """The auth lines of a common-auth, as (control, module, args)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^auth\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*?)\s*$", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def primary_block(text):
    """The auth lines between the Primary marker and the fallback marker."""
    lines = text.splitlines()
    start = lines.index('# here are the per-package modules (the "Primary" block)')
    end = lines.index("# here's the fallback if no module succeeds")
    return auth_lines("\n".join(lines[start + 1:end]))


# ---- the PAM service under test ----------------------------------------------
def module_path(h):
    return "pam_vivo.so" if INSTALLED else h.module


def write_config(h, **kv):
    """The test config; in installed mode it is the system's default path,
    which the module and vivo-enroll read without being told."""
    settings = {"store": f'"{ROOT}/store"', "methods": '[ "uid" ]',
                "timeout": "3"}
    settings.update(kv)
    if not INSTALLED:
        return h.config(**kv)
    check(_etc_is_overlay(), "installed mode needs /etc to be a private "
          "overlay (tests/test-package.sh); refusing to write " + SYSTEM_CONFIG)
    with open(SYSTEM_CONFIG, "w") as f:
        for k, v in settings.items():
            if v is not None:
                f.write(f"{k} = {v};\n")
    os.chown(SYSTEM_CONFIG, 0, 0)
    os.chmod(SYSTEM_CONFIG, 0o644)
    return SYSTEM_CONFIG


def write_service(h):
    """The generated common-auth as a private service. Source mode: only
    the pam_vivo line's module path and arguments are rewritten; its control
    field is kept byte for byte."""
    text = generated()["enabled"]
    if not INSTALLED:
        args = f"{h.module} helper={h.helper} config={ROOT}/etc/pam_vivo.conf"
        text, n = re.subn(r"^(auth\s+\[[^\]]*\]\s+)pam_vivo\.so\b",
                          lambda m: m.group(1) + args, text, flags=re.M)
        check(n == 1, "exactly one pam_vivo line", text)
    with open(f"{ROOT}/pam.d/{SERVICE}", "w") as f:
        f.write(text)
    os.chmod(f"{ROOT}/pam.d/{SERVICE}", 0o644)
    return text


def setup(h):
    h.clear_readers()
    h.reset_store()
    write_config(h)
    write_service(h)


def enroll(h, user="alice", uid=ENROLLED):
    """vivo-enroll add --method uid (the packaged tool in installed mode,
    with the default config path), tapping after its prompt."""
    if INSTALLED:
        args = ["/usr/bin/vivo-enroll"]
    else:
        args = [h.enroll_bin, "--config", f"{ROOT}/etc/pam_vivo.conf"]
    args += ["add", "--method", "uid", "--timeout", "5", "--user", user]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={"PATH": "/usr/bin:/bin"})
    first = p.stdout.readline()
    prompt = p.stdout.readline()
    imp = h.implant(uid=uid, hold=2.0, wait_present=False)
    out, err = p.communicate(timeout=15)
    imp.stop()
    h.clear_readers()
    check(p.returncode == 0, "enroll failed", (first, prompt, out, err))


def pam(h, user="alice", tap_uid=None):
    on_info = None
    if tap_uid is not None:
        on_info, _ = h.tap_command(uid=tap_uid, delay=0.1, hold=2.0)
    return h.pam(user, service=SERVICE, on_info=on_info)


def vivo_log(r):
    """The module's own log lines (pam_syslog: "pam_vivo(pkgtest:auth): ...")."""
    return [l for l in r.log if f"pam_vivo({SERVICE}:auth)" in l]


def prompted_password(r):
    return PASSWORD_PROMPT.rstrip() in [l.rstrip() for l in r.stdout.splitlines()]


# ---- the generated lines -----------------------------------------------------
def test_pkg_01_profile_puts_vivo_first_and_jumps_over_pam_deny(h):
    text = generated()["enabled"]
    block = primary_block(text)
    check(len(block) >= 2, "pam_vivo and pam_unix in the Primary block", text)
    control, module, args = block[0]
    check(module == "pam_vivo.so", "pam_vivo is the first Primary module", block)
    check(args == "", "no module arguments in the profile", block[0])
    m = re.fullmatch(r"\[success=(\d+) default=ignore\]", control)
    check(m is not None, "control [success=N default=ignore]", control)
    names = [b[1] for b in block]
    check(names.index("pam_unix.so") > 0, "pam_unix comes after pam_vivo", names)
    # success=N skips the rest of the Primary block and the pam_deny line:
    # it must land on the pam_permit line that follows pam_deny.
    everything = auth_lines(text)
    i = everything.index(block[0])
    target = everything[i + 1 + int(m.group(1))]
    check(everything[i + int(m.group(1))][1] == "pam_deny.so",
          "the line jumped over last is pam_deny", everything)
    check(target[1] == "pam_permit.so", "success lands on pam_permit", target)
    unix = block[names.index("pam_unix.so")]
    check(re.fullmatch(r"\[success=\d+ default=ignore\]", unix[0]) is not None,
          "pam_unix keeps its own control", unix)


def test_pkg_02_install_disable_remove_leave_common_auth_as_it_was(h):
    g = generated()
    if "before" not in g:
        return  # installed mode: tests/test-package.sh compares the files
    check(g["after-package"] == g["before"],
          "pam-auth-update --package (postinst) must not change common-auth "
          "for a Default: no profile")
    check(g["enabled"] != g["before"], "--enable vivo changes common-auth")
    check(g["disabled"] == g["before"], "--disable vivo restores it exactly")
    check(g["removed"] == g["before"],
          "--package --remove vivo (prerm) restores it exactly")


# ---- the lines through the real libpam -----------------------------------------
def test_pkg_03_enrolled_chip_tapped_succeeds_without_password(h):
    enroll(h)
    r = pam(h, tap_uid=ENROLLED)
    check(r.code == "PAM_SUCCESS", "a good tap must succeed", r)
    check(r.info == [CUE], "the cue, once", r)
    check(not prompted_password(r), "no Password prompt after a good tap", r)
    check(any("result=PAM_SUCCESS" in l for l in vivo_log(r)), "logged", r.log)


def test_pkg_04_no_tap_falls_through_to_the_password(h):
    enroll(h)
    write_config(h, timeout="1")
    r = pam(h)
    check(r.info == [CUE], "the cue was shown", r)
    check(any("result=PAM_AUTHINFO_UNAVAIL" in l for l in vivo_log(r)),
          "pam_vivo answered AUTHINFO_UNAVAIL", r.log)
    check(prompted_password(r), "then pam_unix asked for the password", r)
    out = r.stdout
    check(out.index(CUE) < out.index("Password:"), "the cue came first", out)
    # alice's password is locked ("!"): pam_unix fails, pam_deny denies
    check(r.code == "PAM_AUTH_ERR", "the password path decides", r)


def test_pkg_05_other_chip_falls_through_to_the_password(h):
    enroll(h)
    r = pam(h, tap_uid=OTHER)
    check(any("result=PAM_AUTH_ERR" in l for l in vivo_log(r)),
          "pam_vivo answered AUTH_ERR", r.log)
    check(r.errors == ["This implant is not enrolled for alice."], "told", r)
    check(prompted_password(r), "then pam_unix asked for the password", r)
    check(r.code == "PAM_AUTH_ERR", "the password path decides", r)


def test_pkg_06_not_enrolled_falls_through_at_once(h):
    r = pam(h, user="bob")
    check(r.info == [], "no cue for a user without an enrollment", r)
    check(any("result=PAM_USER_UNKNOWN" in l for l in vivo_log(r)),
          "pam_vivo answered USER_UNKNOWN", r.log)
    check(prompted_password(r), "pam_unix asked for the password", r)
    check(r.code == "PAM_AUTH_ERR", "the password path decides", r)


def test_pkg_07_broken_config_falls_through(h):
    enroll(h)
    write_config(h, methods='[ "uid", "retina" ]')
    r = pam(h, tap_uid=ENROLLED)
    check(any("result=PAM_SYSTEM_ERR" in l for l in vivo_log(r)),
          "pam_vivo answered SYSTEM_ERR", r.log)
    check(prompted_password(r), "pam_unix asked for the password", r)
    check(r.code == "PAM_AUTH_ERR", "the password path decides", r)


def test_pkg_08_password_success_after_a_failed_tap_is_success(h):
    """A pam_vivo failure is ignored, not remembered: when pam_unix then
    succeeds (here: an empty password with nullok), the stack succeeds."""
    enroll(h)
    write_config(h, timeout="1")
    shadow = f"{ROOT}/etc/shadow"
    with open(shadow) as f:
        saved = f.read()
    try:
        with open(shadow, "w") as f:   # same inode: the bind mount stays
            f.write(re.sub(r"^alice:!:", "alice::", saved, flags=re.M))
        r = pam(h)
    finally:
        with open(shadow, "w") as f:
            f.write(saved)
    check(any("result=PAM_AUTHINFO_UNAVAIL" in l for l in vivo_log(r)),
          "pam_vivo answered AUTHINFO_UNAVAIL", r.log)
    check(r.code == "PAM_SUCCESS", "pam_unix's success stands", r)


def test_pkg_09_remote_request_goes_straight_to_the_password(h):
    enroll(h)
    r = h.pam("alice", service=SERVICE, rhost="203.0.113.7")
    check(r.info == [], "no cue for a remote request", r)
    check(any("result=PAM_AUTHINFO_UNAVAIL" in l for l in vivo_log(r)),
          "pam_vivo declined", r.log)
    check(prompted_password(r), "pam_unix asked for the password", r)
    check(r.code == "PAM_AUTH_ERR", "the password path decides", r)
