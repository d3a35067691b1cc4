"""HTTPS for the lab: a throwaway local certificate authority and a server certificate for 127.0.0.1.

Some clients insist on HTTPS (aws-jwt-verify refuses an ``http:`` JWKS URI). ``Lab(https=True)``
serves TLS with a certificate from a CA made for that lab alone: its files live in a temporary
folder that is deleted when the lab stops, the CA signs nothing else, and its private key never
leaves the lab process. Point a client at ``lab.ca_bundle`` (boto3: ``verify=``; Node:
``NODE_EXTRA_CA_CERTS``; curl: ``--cacert``); the lab's own clients already trust it.

Made with ``cryptography``'s x509 builder; EC P-256 keys (fast to make, accepted by every TLS stack).
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass

__all__ = ["LocalCA", "make_local_ca"]


@dataclass
class LocalCA:
    """The files of one lab's TLS set-up: ``ca_bundle`` (the CA certificate clients should trust),
    ``cert`` and ``key`` (the server's). ``remove()`` deletes them."""

    folder: str
    ca_bundle: str
    cert: str
    key: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this lab's CA (and only it)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def make_local_ca(hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), *, days: int = 7) -> LocalCA:
    """A new CA and a certificate for ``hosts`` signed by it, written to a new private folder."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid_from, valid_to = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "labkit throwaway CA (one lab only)")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(valid_from).not_valid_after(valid_to)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid_from).not_valid_after(valid_to)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))

    folder = tempfile.mkdtemp(prefix="labkit-tls-")     # mode 0700: only this user can read the key
    paths = {name: os.path.join(folder, name) for name in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(paths["server.key"], os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return LocalCA(folder, paths["ca.pem"], paths["server.pem"], paths["server.key"])
