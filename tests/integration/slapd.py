# SPDX-License-Identifier: BSD-2-Clause
"""A private OpenLDAP server for pam_vivo's integration tests and benchmark.

pam_vivo's directory store reads enrollments from an LDAP attribute
(vivoImplant, conf/vivo-schema.ldif). The tests need a real slapd to read
them from, over every transport the product supports (ldapi, ldaps,
ldap + StartTLS), and one they can break on purpose (a wrong CA, a hung
server, a restart). This module builds and runs one.

It is private in every way: it runs inside the harness's mount and network
namespaces (only `lo`), under a work directory of its own (for instance
/run/vivotest/slapd), with its own cn=config built by slapadd from scratch,
its own mdb database, its own TLS CA made here with python3-cryptography,
and random ports on 127.0.0.1. It never reads or touches the machine's
slapd configuration (/etc/ldap/slapd.d) or database, and never starts the
system's slapd service. Every ldap-utils call names its server with -H and
its TLS CA explicitly, so /etc/ldap/ldap.conf does not decide anything
(see _env for the one caveat).

Run `python3 tests/integration/slapd.py --selftest` as root inside a
private mount + network namespace to check it:

    unshare --mount --net --propagation private sh -c \\
      'ip link set lo up; mount -t tmpfs tmpfs /run;
       python3 tests/integration/slapd.py --selftest'
"""

import atexit
import base64
import datetime
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
VIVO_SCHEMA = os.path.join(TOP, "conf", "vivo-schema.ldif")
# test-only: FreeIPA's passkey mapping attribute (pass it in extra_schemas)
IPA_PASSKEY_SCHEMA = os.path.join(HERE, "ipa-passkey.ldif")
SYSTEM_SCHEMAS = [f"/etc/ldap/schema/{n}.ldif"
                  for n in ("core", "cosine", "nis", "inetorgperson")]
MODULE_PATH = "/usr/lib/ldap"
START_TIMEOUT = 10.0

# the auxiliary object class that allows each enrollment attribute
OBJECT_CLASS_FOR = {
    "vivoimplant": "vivoImplantUser",
    # FreeIPA's own name (ipa-passkey.ldif)
    "ipapasskey": "ipaPasskeyUser",
}

_running = set()


@atexit.register
def _stop_all():
    for s in list(_running):
        try:
            s.stop()
        except Exception:  # best effort at exit
            pass


def _ldif_line(attr, value):
    """attr: value, or attr:: base64 when LDIF (RFC 2849) needs it."""
    b = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    safe = (b[:1] not in (b" ", b":", b"<") and not b.endswith(b" ")
            and all(0 < c < 0x80 and c not in (10, 13) for c in b))
    if safe:
        return f"{attr}: {b.decode('ascii')}"
    return f"{attr}:: {base64.b64encode(b).decode('ascii')}"


def parse_ldif(text):
    """ldapsearch -LLL output -> {dn: {attr: [values]}}; base64 values
    (attr:: ...) are decoded, to str where they are UTF-8, else bytes."""
    entries = {}
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = []
        for line in block.split("\n"):
            if line.startswith("#"):
                continue
            if line.startswith(" ") and lines:
                lines[-1] += line[1:]
            elif line:
                lines.append(line)
        dn, attrs = None, {}
        for line in lines:
            name, _, rest = line.partition(":")
            if rest.startswith(":"):
                raw = base64.b64decode(rest[1:].strip())
                try:
                    value = raw.decode("utf-8")
                except UnicodeDecodeError:
                    value = raw
            else:
                value = rest[1:] if rest.startswith(" ") else rest
            if name.lower() == "dn" and dn is None:
                dn = value
            else:
                attrs.setdefault(name, []).append(value)
        if dn is not None:
            entries[dn] = attrs
    return entries


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ssha(password):
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


class LdapError(RuntimeError):
    """An ldap-utils command failed; .rc, .stderr, .stdout say how."""

    def __init__(self, argv, proc):
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        super().__init__(f"{' '.join(argv[:1])} exited {proc.returncode}: "
                         f"{proc.stderr.strip() or proc.stdout.strip()}")


class Slapd:
    BASE = "dc=vivo,dc=test"
    PEOPLE = "ou=people,dc=vivo,dc=test"
    ADMIN_DN = "cn=admin,dc=vivo,dc=test"

    def __init__(self, workdir, schema=VIVO_SCHEMA, extra_schemas=()):
        self.workdir = os.path.abspath(workdir)
        self.schema = schema
        self.extra_schemas = list(extra_schemas)
        self.confdir = os.path.join(self.workdir, "slapd.d")
        self.dbdir = os.path.join(self.workdir, "db")
        self.tlsdir = os.path.join(self.workdir, "tls")
        self.log = os.path.join(self.workdir, "slapd.log")
        self.socket = os.path.join(self.workdir, "ldapi")
        self.uri_ldapi = "ldapi://" + urllib.parse.quote(self.socket, safe="")
        self.ca_file = os.path.join(self.tlsdir, "ca.pem")
        self.wrong_ca_file = os.path.join(self.tlsdir, "wrong-ca.pem")
        self.cert_file = os.path.join(self.tlsdir, "server.pem")
        self.key_file = os.path.join(self.tlsdir, "server.key")
        self.admin_password_file = os.path.join(self.workdir, "admin.pw")
        self.admin_password = None
        self.port_ldaps = self.port_ldap = None
        self.uri_ldaps = self.uri_ldap = None
        self.proc = None
        self.paused = False
        self.timings = {}

    # ---- building ---------------------------------------------------------
    def _built(self):
        return os.path.exists(os.path.join(self.confdir, "cn=config.ldif"))

    def _build(self):
        if os.path.exists(self.workdir):
            shutil.rmtree(self.workdir)
        os.makedirs(self.workdir, mode=0o755)
        for d in (self.confdir, self.dbdir, self.tlsdir):
            os.makedirs(d, mode=0o700)
        self.admin_password = secrets.token_urlsafe(18)
        fd = os.open(self.admin_password_file,
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.admin_password)
        self._make_tls()
        config = os.path.join(self.workdir, "config.ldif")
        with open(config, "w") as f:
            f.write(self._config_ldif())
        self._run(["slapadd", "-n0", "-F", self.confdir, "-l", config])
        base = os.path.join(self.workdir, "base.ldif")
        with open(base, "w") as f:
            f.write(f"dn: {self.BASE}\nobjectClass: dcObject\n"
                    "objectClass: organization\ndc: vivo\no: pam_vivo tests\n\n"
                    f"dn: {self.PEOPLE}\nobjectClass: organizationalUnit\n"
                    "ou: people\n\n")
        self._run(["slapadd", "-F", self.confdir, "-b", self.BASE, "-l", base])

    def _config_ldif(self):
        # Access: root over ldapi (SASL EXTERNAL) manages everything,
        # cn=config included; the admin (the rootdn, which no ACL limits
        # anyway) writes; everyone, anonymous included, reads all but
        # passwords: the product reads anonymously by default. No rule
        # names vivoImplant: it would not parse with schema= another file.
        root = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
        out = [f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.workdir}/slapd.pid
olcArgsFile: {self.workdir}/slapd.args
olcLogLevel: 0
olcTLSCertificateFile: {self.cert_file}
olcTLSCertificateKeyFile: {self.key_file}
olcTLSCACertificateFile: {self.ca_file}
olcTLSVerifyClient: never

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_PATH}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

"""]
        for path in SYSTEM_SCHEMAS + [self.schema] + self.extra_schemas:
            with open(path) as f:
                out.append(f.read().strip("\n") + "\n\n")
        out.append(f"""\
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited
olcAccess: {{0}}to * by dn.exact="{root}" manage by * break
olcAccess: {{1}}to dn.base="" by * read
olcAccess: {{2}}to dn.base="cn=Subschema" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by dn.exact="{root}" manage by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {self.BASE}
olcDbDirectory: {self.dbdir}
olcRootDN: {self.ADMIN_DN}
olcRootPW: {_ssha(self.admin_password)}
olcDbMaxSize: 1073741824
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: uidNumber eq
olcAccess: {{0}}to * by dn.exact="{root}" manage by * break
olcAccess: {{1}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{2}}to * by dn.exact="{self.ADMIN_DN}" write by * read

""")
        return "".join(out)

    def _make_tls(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)

        def name(cn):
            return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                 "pam_vivo tests"),
                              x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def ca(cn):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = (x509.CertificateBuilder()
                    .subject_name(name(cn)).issuer_name(name(cn))
                    .public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(start).not_valid_after(end)
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                                   critical=True)
                    .add_extension(x509.KeyUsage(
                        digital_signature=True, content_commitment=False,
                        key_encipherment=False, data_encipherment=False,
                        key_agreement=False, key_cert_sign=True, crl_sign=True,
                        encipher_only=False, decipher_only=False), critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                        key.public_key()), critical=False)
                    .sign(key, hashes.SHA256()))
            return key, cert

        def pem(cert):
            return cert.public_bytes(serialization.Encoding.PEM)

        ca_key, ca_cert = ca("pam_vivo test CA")
        _, wrong_cert = ca("pam_vivo test CA")  # same name, other key
        # libldap checks the certificate against the machine's host name
        # (ldap_int_hostname, gethostname() made canonical) instead of
        # "localhost" when the URI says localhost: name it too
        dns = ["localhost"]
        for n in (socket.gethostname(), socket.getfqdn()):
            if n and n not in dns:
                dns.append(n)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(name("localhost")).issuer_name(ca_cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                               critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False,
                    key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName(
                    [x509.DNSName(n) for n in dns] +
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                    critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                    key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        for path, data, mode in (
                (self.ca_file, pem(ca_cert), 0o644),
                (self.wrong_ca_file, pem(wrong_cert), 0o644),
                (self.cert_file, pem(cert), 0o644),
                (self.key_file, key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()), 0o600)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        os.chmod(self.tlsdir, 0o755)

    # ---- running ----------------------------------------------------------
    def start(self):
        """Start slapd; build everything on the first start (an existing
        build in workdir is reused: its data survives stop/start)."""
        if self.proc is not None:
            raise RuntimeError("slapd is already running")
        t0 = time.monotonic()
        if not self._built():
            self._build()
            self.timings["build"] = time.monotonic() - t0
        elif self.admin_password is None:
            with open(self.admin_password_file) as f:
                self.admin_password = f.read()
        if self.port_ldaps is None:
            self.port_ldaps = _free_port()
            self.port_ldap = _free_port()
            while self.port_ldap == self.port_ldaps:
                self.port_ldap = _free_port()
            self.uri_ldaps = f"ldaps://localhost:{self.port_ldaps}"
            self.uri_ldap = f"ldap://localhost:{self.port_ldap}"
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        urls = (f"{self.uri_ldapi} ldaps://127.0.0.1:{self.port_ldaps}/ "
                f"ldap://127.0.0.1:{self.port_ldap}/")
        # -d none: stay in the foreground (we keep the pid) and write only
        # the must-log lines (errors, start, stop) to stderr, into slapd.log;
        # -s 0: nothing to syslog, where the harness's /dev/log sink would
        # mix slapd's start banner into the module's lines
        argv = ["slapd", "-F", self.confdir, "-h", urls, "-d", "none", "-s", "0"]
        # slapd dies with us even when atexit cannot run (SIGKILL). The
        # signal comes when the *thread* that started it ends: start slapd
        # from a thread that outlives it (the main one)
        if shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "TERM", "--"] + argv
        t1 = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir)
        _running.add(self)
        self.paused = False
        deadline = t1 + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                _running.discard(self)
                raise RuntimeError(f"slapd exited {rc} at start:\n{self._log_tail()}")
            r = self._ldap("ldapsearch", ["-x", "-LLL", "-s", "base", "-b", "",
                                          "-o", "nettimeout=1", "1.1"],
                           check=False, timeout=3)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"slapd did not answer on {self.uri_ldapi} in "
                                   f"{START_TIMEOUT:.0f} s:\n{r.stderr}\n{self._log_tail()}")
            time.sleep(0.02)
        self.timings["start"] = time.monotonic() - t1
        return self

    def _log_tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        """Terminate slapd and wait for it (a paused one is resumed first)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.paused = False
        _running.discard(self)

    def restart(self):
        self.stop()
        return self.start()

    def pause(self):
        """SIGSTOP slapd: a hung server. The kernel still completes TCP and
        ldapi connections (listen backlog); nothing answers."""
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    # ---- ldap-utils ---------------------------------------------------------
    def _env(self, ca_file=None):
        """Environment for ldap-utils. With LDAPNOINIT set libldap reads no
        configuration file *and no LDAP* environment variable either*, so a
        TLS call cannot set its CA that way: it gets LDAPTLS_* variables,
        which override what /etc/ldap/ldap.conf says (read first), and
        LDAPCONF/LDAPRC/HOME pointing at files of ours (no ~/.ldaprc)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LDAP")}
        env["HOME"] = self.workdir
        if ca_file is None:
            env["LDAPNOINIT"] = "1"
            return env
        conf = os.path.join(self.workdir, "ldap-client.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write("# private client config for slapd.py's ldap-utils calls\n")
        empty = os.path.join(self.workdir, "empty-cadir")
        os.makedirs(empty, exist_ok=True)
        env.update(LDAPCONF=conf, LDAPRC=conf, LDAPTLS_CACERT=ca_file,
                   LDAPTLS_CACERTDIR=empty, LDAPTLS_REQCERT="demand",
                   LDAPTLS_CERT="", LDAPTLS_KEY="", LDAPSASL_MECH="",
                   LDAPBINDDN="", LDAPBASE="", LDAPURI="")
        return env

    def _ldap(self, tool, args, uri=None, ca_file=None, starttls=False,
              input=None, check=True, timeout=60):
        """Run an ldap-utils tool against this server: -H always given;
        ca_file (default: ours) only for ldaps:// or StartTLS."""
        uri = uri or self.uri_ldapi
        tls = uri.startswith("ldaps:") or starttls
        argv = [tool, "-H", uri] + (["-ZZ"] if starttls else []) + list(args)
        proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                              env=self._env((ca_file or self.ca_file) if tls else None),
                              cwd=self.workdir, timeout=timeout)
        if check and proc.returncode != 0:
            raise LdapError(argv, proc)
        return proc

    def _admin(self):
        return ["-x", "-D", self.ADMIN_DN, "-y", self.admin_password_file]

    def modify(self, ldif_text):
        """ldapmodify as the admin over ldapi (changetype: add works too);
        raises LdapError (with slapd's answer) on failure."""
        return self._ldap("ldapmodify", self._admin(), input=ldif_text).stdout

    def search(self, filter="(objectClass=*)", attrs=(), base=None, scope="sub",
               uri=None, ca_file=None, starttls=False, admin=False):
        """ldapsearch (anonymous unless admin=True) -> {dn: {attr: [values]}}.
        uri/ca_file/starttls read over another transport."""
        args = (self._admin() if admin else ["-x"]) + [
            "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=10",
            "-b", base or self.BASE, "-s", scope, filter] + list(attrs)
        out = self._ldap("ldapsearch", args, uri=uri, ca_file=ca_file,
                         starttls=starttls).stdout
        return parse_ldif(out)

    def dn(self, name):
        return f"uid={name},{self.PEOPLE}"

    def _user_ldif(self, name, uid_number, values, attribute, changetype):
        oc = OBJECT_CLASS_FOR.get(attribute.lower())
        lines = [f"dn: {self.dn(name)}"]
        if changetype:
            lines.append("changetype: add")
        lines += ["objectClass: account", "objectClass: posixAccount"]
        if oc:
            lines.append(f"objectClass: {oc}")
        lines += [f"uid: {name}", f"cn: {name}", f"uidNumber: {uid_number}",
                  f"gidNumber: {uid_number}", f"homeDirectory: /home/{name}",
                  "loginShell: /bin/sh"]
        lines += [_ldif_line(attribute, v) for v in values]
        return "\n".join(lines) + "\n\n"

    def add_user(self, name, uid_number, values=(), attribute="vivoImplant"):
        """uid=NAME,ou=people: account + posixAccount, and the auxiliary
        class that allows ATTRIBUTE (vivoImplantUser, ipaPasskeyUser)."""
        self.modify(self._user_ldif(name, uid_number, values, attribute, True))

    def _change(self, name, op, attribute, values):
        body = "\n".join([f"{op}: {attribute}"] +
                         [_ldif_line(attribute, v) for v in values])
        self.modify(f"dn: {self.dn(name)}\nchangetype: modify\n{body}\n-\n\n")

    def set_values(self, name, values, attribute="vivoImplant"):
        """Replace all values (an empty list deletes the attribute)."""
        self._change(name, "replace", attribute, list(values))

    def add_value(self, name, value, attribute="vivoImplant"):
        self._change(name, "add", attribute, [value])

    def delete_value(self, name, value, attribute="vivoImplant"):
        self._change(name, "delete", attribute, [value])

    def get_values(self, name, attribute="vivoImplant", **kw):
        """The values of ATTRIBUTE on user NAME ([] when none)."""
        e = self.search("(objectClass=*)", [attribute], base=self.dn(name),
                        scope="base", **kw)
        for attrs in e.values():
            for k, v in attrs.items():
                if k.lower() == attribute.lower():
                    return v
        return []

    def bulk_users(self, n, values_for=lambda i: [], attribute="vivoImplant",
                   first_uid=100000, start=1):
        """Load users user00001..userNNNNN (uidNumber first_uid + i) fast:
        stop slapd, slapadd the LDIF, start again."""
        t0 = time.monotonic()
        was_running = self.proc is not None
        if not self._built():
            self._build()
        self.stop()
        path = os.path.join(self.workdir, "bulk.ldif")
        with open(path, "w") as f:
            for i in range(start, start + n):
                f.write(self._user_ldif(f"user{i:05d}", first_uid + i,
                                        values_for(i), attribute, False))
        self._run(["slapadd", "-q", "-F", self.confdir, "-b", self.BASE, "-l", path])
        os.unlink(path)
        if was_running:
            self.start()
        self.timings["bulk"] = time.monotonic() - t0
        return self.timings["bulk"]

    def _run(self, argv):
        proc = subprocess.run(argv, capture_output=True, text=True,
                              cwd=self.workdir)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n"
                               f"{proc.stdout}{proc.stderr}")
        return proc


# ---- self-test ----------------------------------------------------------------
def selftest(workdir="/run/vivotest/slapd"):
    def step(what, fn):
        t = time.monotonic()
        r = fn()
        print(f"  {what}: {time.monotonic() - t:.3f} s", flush=True)
        return r

    if os.geteuid() != 0:
        sys.exit("run as root in a private mount + network namespace")
    names = sorted(n for _, n in socket.if_nameindex())
    if names != ["lo"]:
        sys.exit(f"not in a private network namespace (interfaces: {names})")
    if not os.path.ismount("/run"):
        sys.exit("/run is not a private tmpfs")
    v1 = "vivo1 enrollment one"
    v2 = "vivo1 enrollment two:=\u0001 "  # needs base64 in LDIF
    s = Slapd(workdir, extra_schemas=[IPA_PASSKEY_SCHEMA])
    print("slapd self-test in", workdir)
    step("first start (build + start)", s.start)
    print(f"    build {s.timings['build']:.3f} s, start {s.timings['start']:.3f} s")
    print("   ", s.uri_ldapi, s.uri_ldaps, s.uri_ldap)
    step("add_user alice (2 values)", lambda: s.add_user("alice", 60001, [v1, v2]))
    want = sorted([v1, v2])
    assert sorted(step("read over ldapi", lambda: s.get_values("alice"))) == want
    assert sorted(step("read over ldaps", lambda: s.get_values(
        "alice", uri=s.uri_ldaps))) == want
    assert sorted(step("read over ldap + StartTLS", lambda: s.get_values(
        "alice", uri=s.uri_ldap, starttls=True))) == want
    assert sorted(s.get_values("alice", uri=f"ldaps://127.0.0.1:{s.port_ldaps}")) == want
    for uri, tls in ((s.uri_ldaps, False), (s.uri_ldap, True)):
        try:
            s.get_values("alice", uri=uri, starttls=tls, ca_file=s.wrong_ca_file)
        except LdapError as e:
            print(f"  wrong CA refused ({uri}): {e.stderr.strip().splitlines()[0]}")
        else:
            raise AssertionError(f"{uri} accepted with the wrong CA")
    # anonymous may read, not write
    r = s._ldap("ldapmodify", ["-x"], check=False, input=(
        f"dn: {s.dn('alice')}\nchangetype: modify\nadd: vivoImplant\n"
        "vivoImplant: evil\n-\n\n"))
    assert r.returncode != 0, "anonymous write accepted"
    # root over ldapi manages cn=config
    r = s._ldap("ldapsearch", ["-Y", "EXTERNAL", "-LLL", "-b", "cn=config",
                               "-s", "base", "1.1"], check=False)
    assert r.returncode == 0, r.stderr
    s.add_value("alice", "third")
    s.delete_value("alice", v1)
    assert sorted(s.get_values("alice")) == sorted([v2, "third"])
    s.set_values("alice", [])
    assert s.get_values("alice") == []
    s.set_values("alice", [v1])
    try:
        s.add_value("alice", "caf\u00e9")  # not IA5
    except LdapError as e:
        print(f"  non-IA5 value refused: {e.stderr.strip().splitlines()[-1]}")
    else:
        raise AssertionError("non-IA5 value accepted")
    s.add_user("ipauser", 60010, ["passkey:abc,def"], attribute="ipaPassKey")
    assert s.get_values("ipauser", "ipaPassKey") == ["passkey:abc,def"]

    step("pause", s.pause)
    # a hung server: every transport connects (the kernel accepts) and then
    # nothing answers; see how ldapsearch behaves (CPU it burns waiting)
    for label, uri, tls, extra in (
            ("ldapi", s.uri_ldapi, False, []),
            ("ldaps", s.uri_ldaps, False, []),
            ("ldaps, nettimeout=1", s.uri_ldaps, False, ["-o", "nettimeout=1"]),
            ("StartTLS, nettimeout=1", s.uri_ldap, True, ["-o", "nettimeout=1"])):
        argv = ["ldapsearch", "-H", uri] + (["-ZZ"] if tls else []) + extra + [
            "-x", "-LLL", "-b", s.BASE, "-s", "base", "1.1"]
        t = time.monotonic()
        p = subprocess.Popen(argv, env=s._env(s.ca_file if uri != s.uri_ldapi
                                               else None),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while p.poll() is None and time.monotonic() - t < 2:
            time.sleep(0.05)
        hung = p.poll() is None
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if hung:
            p.kill()
        p.wait()
        print(f"  paused, {label}: " + ("still waiting after 2 s" if hung else
              f"rc {p.returncode} after {time.monotonic() - t:.2f} s")
              + f", {cpu:.2f} s CPU")
    step("resume", s.resume)
    assert s.get_values("alice") == [v1]

    step("stop", s.stop)
    step("start again", s.start)
    assert s.get_values("alice") == [v1], "data lost across restart"

    def bulk():
        return s.bulk_users(10000, lambda i: [f"vivo1 implant {i}"])
    step("bulk_users(10000) (stop, slapadd, start)", bulk)
    assert s.get_values("user07777") == ["vivo1 implant 7777"]
    assert s.get_values("alice") == [v1]
    t = time.monotonic()
    n = len(s.search("(objectClass=vivoImplantUser)", ["1.1"]))
    print(f"  search all vivoImplantUser: {n} entries, {time.monotonic() - t:.3f} s")
    assert n == 10001, n
    t = time.monotonic()
    for i in range(1, 101):
        s.search(f"(uid=user{i * 97:05d})", ["vivoImplant"])
    print(f"  100 ldapsearch by uid: {(time.monotonic() - t) * 10:.1f} ms each")
    pid = s.pid
    s.stop()
    assert not os.path.exists(f"/proc/{pid}"), "slapd left behind"
    print("slapd self-test: OK")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--selftest"]:
        selftest(*sys.argv[2:3])
    else:
        sys.exit(f"usage: {sys.argv[0]} --selftest [WORKDIR]")
