"""Log and state files are private to the user; TLS is verified by default and fails closed."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amtflow.simulator import Scenario, Simulator
from tests.ports import dead_port
from tests.run.conftest import PASSWORD, LiveSimulator, amtflow, serve_in_thread, write_definitions

DATE = "2026-11-24"
JOBS: list[dict[str, Any]] = [
    {"name": "EXTRACT", "task": "batch_job", "job_name": "EXTRACT"},
    {"name": "REPORT", "task": "batch_job", "job_name": "REPORT", "depends_on": ["EXTRACT"]},
]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Umask 000, so that only amtflow's own care can make its files private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_logs_and_state_are_0600_in_0700_folders(
    tmp_path: Path,
    start_simulator,
    permissive_umask: None,  # type: ignore[no-untyped-def]
) -> None:
    live = start_simulator(
        {"default": {"duration": 0.1, "messages": ["hello"]}}, users={"OPCONAPI": PASSWORD}
    )
    schedule = write_definitions(tmp_path, live.url, JOBS)
    result = amtflow(
        "run",
        schedule,
        "--date",
        DATE,
        "--plain",
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    files = [p for folder in ("logs", "state") for p in (tmp_path / folder).rglob("*")]
    assert sum(p.suffix == ".log" for p in files) == 2
    assert any(p.name.startswith("journal.db") for p in files)
    for path in [tmp_path / "logs", tmp_path / "state", *files]:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made now (cryptography, else openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        _with_cryptography(cert, key)
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl command is available")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
    return cert, key


def _with_cryptography(cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def https_simulator(tmp_path: Path) -> Iterator[tuple[LiveSimulator, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    scenario = Scenario.from_mapping({"default": {"duration": 0.1}})
    simulator = Simulator(scenario, users={"OPCONAPI": PASSWORD}, ssl_context=context)
    for live in serve_in_thread(simulator):
        yield live, cert


def test_self_signed_server_is_refused_then_trusted_with_ca_bundle(
    tmp_path: Path,
    https_simulator: tuple[LiveSimulator, Path],
) -> None:
    live, cert = https_simulator
    assert live.url.startswith("https://")
    run = (
        "run",
        "--date",
        DATE,
        "--plain",
        "--log-dir",
        tmp_path / "logs",
        "--state-dir",
        tmp_path / "state",
    )

    refused = amtflow(run[0], write_definitions(tmp_path, live.url, JOBS), *run[1:], cwd=tmp_path)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "certificate of 127.0.0.1" in lines[0] and "not trusted" in lines[0], lines[0]
    assert "self-signed" in lines[0] and "tls.ca_bundle" in lines[0], lines[0]
    assert live.simulator.record.starts() == []
    assert not any(r.path == "/api/logon" for r in live.simulator.record.requests)

    trusted = write_definitions(tmp_path, live.url, JOBS, tls={"ca_bundle": str(cert)})
    result = amtflow(run[0], trusted, *run[1:], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert live.simulator.record.starts_by_job() == {"EXTRACT": 1, "REPORT": 1}


NOT_REGULAR = "it is not a regular file (a FIFO, socket or device)"


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_ca_bundle_that_is_not_a_regular_file_is_one_line_not_a_hang(
    tmp_path: Path, kind: str
) -> None:
    """OpenSSL opens a FIFO nobody writes to and waits forever, in C, where no signal but
    SIGKILL reaches it: an unattended run would hang before its first job."""
    bundle = tmp_path / "ca.pem"
    os.mkfifo(bundle) if kind == "fifo" else bundle.mkdir()
    url = f"https://127.0.0.1:{dead_port()}"
    definitions = write_definitions(tmp_path, url, JOBS, tls={"ca_bundle": str(bundle)})
    result = amtflow("agents", "check", definitions, cwd=tmp_path, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    why = "it is a folder, not a file" if kind == "folder" else NOT_REGULAR
    assert f"tls.ca_bundle {bundle} cannot be used ({why})" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_ca_bundle_with_comments_in_any_encoding_is_read_for_its_certificates(
    tmp_path: Path,
) -> None:
    """A bundle such as certifi's carries ``# Issuer: ...`` lines in UTF-8 between the PEM
    blocks: only the certificates are handed to OpenSSL; a file with none is one clear line."""
    from amtflow.client import tls
    from amtflow.errors import AmtError

    system = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system.is_file():
        pytest.skip("no system CA bundle at /etc/ssl/certs/ca-certificates.crt")
    pem = system.read_bytes()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes("# Issuer: CN=NetLock Arany (Class Gold) Főtanúsítvány\n".encode() + pem)
    context = tls.ca_context(str(bundle), "amt")
    assert len(context.get_ca_certs()) == pem.count(b"-----BEGIN CERTIFICATE-----")
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(AmtError) as refused:
        tls.ca_context(str(empty), "amt")
    assert f"tls.ca_bundle {empty} cannot be used (no PEM certificate in it)" in str(refused.value)
