"""Certificates for a Dask cluster that only its own machines can use (mutual TLS). Qt-free.

A Dask scheduler runs whatever code a client sends it, so one reachable over the network without
authentication lets anyone on that network run programs on every worker. With TLS every
connection (client, scheduler, workers) must present a certificate signed by the cluster's own
certificate authority, and everything is encrypted.

:func:`make_certificates` writes, into a new folder (``genre-desktop-cli cluster-certs DIR``):

- ``ca.pem``: the authority's certificate (every machine needs it);
- ``ca-key.pem``: the authority's private key (only to make more certificates later; keep it on
  this machine);
- ``node.pem`` + ``node-key.pem``: the scheduler's and workers' certificate and key;
- ``client.pem`` + ``client-key.pem``: this app's certificate and key.

Private keys are written readable by their owner only. Dask does not check host names (cluster
addresses are often IP addresses): a certificate proves membership of the cluster, not a name.
:func:`security_for` builds the ``distributed.security.Security`` the client connects with.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

CA, CA_KEY = "ca.pem", "ca-key.pem"
NODE, NODE_KEY = "node.pem", "node-key.pem"
CLIENT, CLIENT_KEY = "client.pem", "client-key.pem"
VALID_DAYS = 3650


class CertificateError(ValueError):
    """The certificate folder cannot be made or used; the message says why."""


def _write(path: Path, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def make_certificates(folder: str | os.PathLike[str], name: str = "genre-desktop cluster") -> list[Path]:
    """Write a new authority and the node and client certificates into ``folder`` (new or empty)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:
        raise CertificateError("making certificates needs the cluster extra "
                               "(pip install 'genre-desktop[cluster]')") from exc
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise CertificateError(f"{folder} is not empty: certificates are only written into a new or empty folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise CertificateError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    now = datetime.datetime.now(datetime.timezone.utc)

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def subject(common_name: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(subject(f"{name} authority"))
               .issuer_name(subject(f"{name} authority")).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    written = []
    try:
        _write(folder / CA, ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
        _write(folder / CA_KEY, key_pem(ca_key), private=True)
        written += [folder / CA, folder / CA_KEY]
        for cert_name, key_name, role in ((NODE, NODE_KEY, "node"), (CLIENT, CLIENT_KEY, "client")):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = (x509.CertificateBuilder().subject_name(subject(f"{name} {role}"))
                    .issuer_name(ca_cert.subject).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    # Dask nodes both accept and open connections: server and client use
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                          ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                    .sign(ca_key, hashes.SHA256()))
            _write(folder / cert_name, cert.public_bytes(serialization.Encoding.PEM), private=False)
            _write(folder / key_name, key_pem(key), private=True)
            written += [folder / cert_name, folder / key_name]
    except OSError as exc:
        raise CertificateError(f"cannot write the certificates into {folder}: {exc.strerror or exc}") from exc
    return written


def security_for(address: str, folder: str | os.PathLike[str] | None):
    """The ``Security`` a client of ``address`` connects with, or None for a plain ``tcp://`` one.

    ``folder``: made by :func:`make_certificates` (its ``ca.pem``, ``client.pem``,
    ``client-key.pem``). Without it a ``tls://`` address uses Dask's own configuration
    (``distributed.comm.tls.ca-file``, ``...client.cert``, ``...client.key``). Raises
    CertificateError when a ``tls://`` address has no certificates, or a file is missing.
    """
    from distributed.security import Security

    if folder is None:
        if not address.startswith("tls://"):
            return None
        security = Security()  # reads Dask's configuration
        if not security.tls_ca_file or not security.tls_client_cert:
            raise CertificateError(
                f"{address} needs certificates: --tls DIR (a folder made by `genre-desktop-cli cluster-certs DIR`) "
                "or Dask's distributed.comm.tls settings")
        return security
    folder = Path(folder)
    missing = [n for n in (CA, CLIENT, CLIENT_KEY) if not (folder / n).is_file()]
    if missing:
        raise CertificateError(f"{folder} lacks {', '.join(missing)}: make the folder with "
                               "`genre-desktop-cli cluster-certs DIR`")
    if not address.startswith(("tls://", "local")):
        raise CertificateError(f"--tls is for tls:// addresses; {address} would send everything unencrypted")
    return Security(tls_ca_file=str(folder / CA), tls_client_cert=str(folder / CLIENT),
                    tls_client_key=str(folder / CLIENT_KEY), require_encryption=True)


def node_security(folder: str | os.PathLike[str]):
    """The scheduler's and workers' ``Security`` from a certificate folder (a local TLS cluster, tests)."""
    from distributed.security import Security

    folder = Path(folder)
    node, key = str(folder / NODE), str(folder / NODE_KEY)
    return Security(tls_ca_file=str(folder / CA), tls_client_cert=str(folder / CLIENT),
                    tls_client_key=str(folder / CLIENT_KEY), tls_scheduler_cert=node, tls_scheduler_key=key,
                    tls_worker_cert=node, tls_worker_key=key, require_encryption=True)
