"""Signing identities: ``assetkit keys init`` (a local development CA and signer) and loading the
identity ``assetkit.yaml`` names, checked before any asset is made.

C2PA validators want the signer certificate to be issued by a CA (a self-signed leaf is
rejected), with ``CA:false``, the ``digitalSignature`` key usage and an extended key usage such
as ``emailProtection``; the chain PEM lists the signer first, then its CA.
"""
from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, Problem, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import Settings
    from ..yamlfile import YamlDoc

#: Extended key usages a C2PA signer certificate may carry (emailProtection, documentSigning,
#: timeStamping, OCSPSigning, MS C2PA signing, C2PA claim signing).
C2PA_EKUS = {"1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.8", "1.3.6.1.5.5.7.3.9",
             "1.3.6.1.4.1.311.76.59.1.9", "1.3.6.1.4.1.62558.2.1"}

UNTRUSTED_NOTE = ("These are LOCAL DEVELOPMENT credentials: files signed with them verify as 'untrusted' "
                  "everywhere outside your team (anyone who has not added ca.pem as a trust anchor). "
                  "For delivery to platforms and publishers, sign with a certificate from a CA on the "
                  "C2PA trust list.")


@dataclass(frozen=True)
class SigningIdentity:
    """A checked signer: certificate chain PEM, private key PEM, algorithm, who and until when."""

    chain_pem: bytes
    key_pem: bytes
    alg: str  # es256 | es384 | es512 | ps256 | ed25519
    subject: str
    issuer: str
    not_after: dt.datetime
    cert_sha256: str
    tsa_url: str | None = None

    def describe(self) -> dict:
        return {"signed": True, "signer": self.subject, "issuer": self.issuer, "alg": self.alg,
                "cert_sha256": self.cert_sha256, "cert_expires": self.not_after.isoformat(timespec="seconds"),
                "tsa_url": self.tsa_url}


# ------------------------------------------------------------------------------------ keys init
def init_keys(folder: str | Path, name: str = "assetkit dev signer", days: int = 365) -> dict[str, Path]:
    """Make a local development CA and an ES256 signer certificate it issued, in ``folder``.

    Writes ``ca.pem`` (the CA certificate: a trust anchor for ``assetkit verify``), ``ca.key``,
    ``chain.pem`` (signer, then CA) and ``signer.key`` — keys with mode 0600. Refuses to
    overwrite existing files.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    paths = {"ca": folder / "ca.pem", "ca_key": folder / "ca.key", "chain": folder / "chain.pem",
             "key": folder / "signer.key"}
    existing = [str(p) for p in paths.values() if p.exists() or p.is_symlink()]
    if existing:
        raise UsageError(f"{', '.join(existing)} already exist(s); keys init never overwrites keys "
                         "(choose another folder or remove them)")
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def dn(cn: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "assetkit local development")])

    def usage(**on):
        flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        flags.update(on)
        return x509.KeyUsage(**flags)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(dn("assetkit dev CA (untrusted)")).issuer_name(
        dn("assetkit dev CA (untrusted)")).public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days * 5))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(dn(name)).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM

    def private(k) -> bytes:
        return k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    _write_new(paths["ca_key"], private(ca_key), 0o600)
    _write_new(paths["key"], private(key), 0o600)
    _write_new(paths["ca"], ca.public_bytes(pem), 0o644)
    _write_new(paths["chain"], leaf.public_bytes(pem) + ca.public_bytes(pem), 0o644)
    return paths


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ loading, checks
class _Where:
    """Points problems at the ``provenance.*`` keys of the settings file (or names the source)."""

    def __init__(self, settings: Settings):
        self.path = settings.path
        self._doc: YamlDoc | None = None

    def problem(self, key: str, message: str) -> Problem:
        if self.path is None:
            return Problem("assetkit.yaml (defaults)", None, None, f"provenance.{key}", message)
        if self._doc is None:
            from ..yamlfile import load_yaml

            self._doc = load_yaml(self.path)
        return self._doc.problem(("provenance", key), message)


def load_identity(settings: Settings) -> tuple[SigningIdentity | None, str]:
    """The signing identity the settings name, checked; ``(None, why)`` when none is configured.

    Raises ConfigError (file:line:col into ``assetkit.yaml``) for a configured identity that
    cannot sign: unreadable or non-PEM files, a key readable by others, a key that does not
    match the certificate, an expired or not yet valid certificate, a self-signed signer, or a
    signer certificate without the extensions C2PA requires.
    """
    prov = settings.provenance
    env_key = os.environ.get(prov.key_env)
    if not prov.cert and not prov.key and not env_key:
        return None, "no signing keys configured (provenance.cert / provenance.key in assetkit.yaml)"
    where = _Where(settings)
    base = settings.path.parent if settings.path else Path.cwd()
    problems: list[Problem] = []
    chain_pem = key_pem = None
    if not prov.cert:
        problems.append(where.problem("cert", "provenance.cert is missing: name the certificate chain PEM"))
    else:
        chain_pem = _read_regular(base, prov.cert, "cert", where, problems)
    if env_key:
        key_pem = env_key.encode()
    elif not prov.key:
        problems.append(where.problem("key", f"provenance.key is missing: name the private key file (mode 0600) "
                                      f"or set ${prov.key_env}"))
    else:
        key_pem = _read_regular(base, prov.key, "key", where, problems, private=True)
    if problems or chain_pem is None or key_pem is None:
        raise ConfigError(problems)
    identity = _check_pair(chain_pem, key_pem, prov.tsa_url, where, "key" if not env_key else None, prov.key_env)
    _trial_sign(identity, where)
    return identity, ""


def _read_regular(base: Path, ref: str, key: str, where: _Where, problems: list[Problem],
                  private: bool = False) -> bytes | None:
    path = Path(os.path.expanduser(ref))
    path = path if path.is_absolute() else base / path
    try:
        st = path.stat()
    except OSError:
        problems.append(where.problem(key, f"file not found: {ref} (looked for {path})"))
        return None
    if not stat.S_ISREG(st.st_mode):
        problems.append(where.problem(key, f"{ref} is not a regular file"))
        return None
    if private and st.st_mode & 0o077:
        problems.append(where.problem(key, f"{ref} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                                      f"a private key must be mode 0600: chmod 600 {path}"))
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(where.problem(key, f"cannot read {ref}: {exc.strerror}"))
        return None


def _check_pair(chain_pem: bytes, key_pem: bytes, tsa_url: str | None, where: _Where, key_loc: str | None,
                key_env: str) -> SigningIdentity:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    def fail(loc: str | None, msg: str) -> ConfigError:
        if loc is None:
            return ConfigError([Problem(f"${key_env}", None, None, "", msg)])
        return ConfigError([where.problem(loc, msg)])

    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise fail("cert", "not a PEM certificate chain (expected -----BEGIN CERTIFICATE----- blocks)") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise fail(key_loc, f"not an unencrypted PEM private key ({exc})") from None
    leaf = certs[0]
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, pub) != leaf.public_key().public_bytes(der, pub):
        raise fail(key_loc, "the private key does not match the certificate (the first certificate of "
                            "provenance.cert is the signer's)")
    now = dt.datetime.now(dt.UTC)
    if leaf.not_valid_after_utc < now:
        raise fail("cert", f"the signer certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; "
                           "issue a new one (`assetkit keys init` for development)")
    if leaf.not_valid_before_utc > now:
        raise fail("cert", f"the signer certificate is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if leaf.issuer == leaf.subject:
        raise fail("cert", "the signer certificate is self-signed, which C2PA rejects; use a certificate issued "
                           "by a CA and list the CA after it (`assetkit keys init DIR` makes a development pair)")
    missing = []
    try:
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            missing.append("CA:false (it is a CA certificate)")
    except x509.ExtensionNotFound:
        pass
    try:
        if not leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            missing.append("the digitalSignature key usage")
    except x509.ExtensionNotFound:
        missing.append("the digitalSignature key usage")
    try:
        ekus = {o.dotted_string for o in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
        if not ekus & C2PA_EKUS:
            missing.append("an extended key usage C2PA accepts (emailProtection or documentSigning)")
    except x509.ExtensionNotFound:
        missing.append("an extended key usage (emailProtection or documentSigning)")
    if missing:
        raise fail("cert", f"the signer certificate lacks what C2PA requires: {'; '.join(missing)}")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(key.curve.name)
    elif isinstance(key, rsa.RSAPrivateKey):
        alg = "ps256"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        alg = "ed25519"
    else:
        alg = None
    if alg is None:
        raise fail(key_loc, "unsupported key type: use an EC P-256 key (ES256), P-384/P-521, RSA (PS256) or Ed25519")
    return SigningIdentity(chain_pem=chain_pem, key_pem=key_pem, alg=alg, subject=leaf.subject.rfc4514_string(),
                           issuer=leaf.issuer.rfc4514_string(), not_after=leaf.not_valid_after_utc,
                           cert_sha256=leaf.fingerprint(hashes.SHA256()).hex(), tsa_url=tsa_url)


def _trial_sign(identity: SigningIdentity, where: _Where) -> None:
    """Sign a 1×1 PNG in memory, so what c2pa itself refuses is reported now, not mid-run."""
    import io

    from PIL import Image

    from .sign import make_signer

    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    import c2pa

    try:
        from .manifest import master_manifest

        builder = c2pa.Builder(master_manifest("trial.png", "draft", "assetkit key check", {}))
        builder.sign(make_signer(identity), "image/png", io.BytesIO(buf.getvalue()), io.BytesIO())
    except c2pa.C2paError as exc:
        raise ConfigError([where.problem("cert", f"c2pa cannot sign with this certificate and key: {exc}")]) from None
