"""HTTPS to OPA: verification on by default, a private CA, mutual TLS, opt-in insecure.

The server is tests/opa_standin.py over TLS (a STAND-IN for OPA, not OPA), with a CA,
a server certificate for 127.0.0.1 and a client certificate made here with
`cryptography`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from engine_helpers import inventory_from_yaml
from opa_standin import StandInOpa

from zenpolicy.api import OpaOptions
from zenpolicy.engines import native, opa
from zenpolicy.errors import EngineError
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.timeutil import parse_as_of

CATALOGUE = load_catalogue()
RULES = [rule for rule in CATALOGUE.rules if rule.id in ("AUTH-03a", "AUTH-06")]
PARAMS = {"password_rotation": 31 * 86400}
ESTATE = """\
system:
  o365: {type: identity_provider}
account:
  svc: {system: system.o365, type: service, status: active, authentication: password, credential_storage: vault}
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.pem, server.pem/.key (for 127.0.0.1), client.pem/.key, all signed by the CA."""
    root = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _write(root / "ca.pem", _cert("zenpolicy test CA", ca_key, "zenpolicy test CA", ca_key, ca=True))
    for who in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(
            root / f"{who}.pem",
            _cert(f"zenpolicy test {who}", key, "zenpolicy test CA", ca_key, ca=False),
            key,
        )
    return root


def _serve(pki: Path, *, client_certs: bool) -> tuple[StandInOpa, str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki / "ca.pem")
    standin = StandInOpa()
    return standin, standin.start(tls=context)


@pytest.fixture
def https(pki: Path) -> Iterator[str]:
    standin, url = _serve(pki, client_certs=False)
    yield url
    standin.stop()


@pytest.fixture
def mutual(pki: Path) -> Iterator[str]:
    standin, url = _serve(pki, client_certs=True)
    yield url
    standin.stop()


def _check(options: OpaOptions) -> None:
    inventory = inventory_from_yaml(ESTATE)
    as_of = parse_as_of("2026-11-26")
    through_opa = opa.evaluate(RULES, inventory, as_of=as_of, params=PARAMS, options=options)
    in_process = native.evaluate(RULES, inventory, as_of=as_of, params=PARAMS)
    assert sorted(through_opa, key=lambda f: f.rule_id) == sorted(in_process, key=lambda f: f.rule_id)


def test_a_private_ca_verifies_the_server(https: str, pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests would let these variables replace the CA file (psf/requests#3829).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    _check(OpaOptions(url=https, ca_file=str(pki / "ca.pem")))


def test_verification_is_on_by_default(https: str) -> None:
    with pytest.raises(EngineError) as caught:
        _check(OpaOptions(url=https, timeout=5))
    message = str(caught.value)
    # OpenSSL words the reason after the code ("self-signed certificate in certificate chain").
    assert message.startswith(
        f"TLS with the OPA server at {https} failed while checking its health: [SSL: CERTIFICATE_VERIFY_FAILED] "
        "certificate verify failed: "
    )
    assert "_ssl.c" not in message


def test_insecure_skips_verification_when_asked(https: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    _check(OpaOptions(url=https, insecure=True))


def test_mutual_tls_sends_the_client_certificate(mutual: str, pki: Path) -> None:
    ca = str(pki / "ca.pem")
    _check(
        OpaOptions(
            url=mutual, ca_file=ca, client_cert=str(pki / "client.pem"), client_key=str(pki / "client.key")
        )
    )
    with pytest.raises(EngineError) as caught:
        _check(OpaOptions(url=mutual, ca_file=ca, timeout=5))
    message = str(caught.value)
    assert message.startswith(f"TLS with the OPA server at {mutual} failed while checking its health: ") or (
        message.startswith(f"the OPA server at {mutual} is unreachable while checking its health: ")
    ), message
