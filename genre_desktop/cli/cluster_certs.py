"""``cluster-certs DIR``: certificates for a Dask cluster only its own machines can use (TLS).

Writes a private certificate authority and the certificates of the scheduler and workers ("node")
and of this app ("client") into DIR, a new or empty folder (``app/cluster_tls.py``); prints the
commands that start the scheduler and the workers with them. Exit code 0, or 1 with a message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genre_desktop.cli.common import FAILED, OK


def register(subparsers) -> None:
    p = subparsers.add_parser("cluster-certs", help="make TLS certificates for a Dask cluster",
                              description="Make a private certificate authority and certificates for the "
                                          "scheduler, the workers and this app, for `analyze --cluster tls://...`.")
    p.add_argument("folder", type=Path, metavar="DIR", help="a new or empty folder for the certificates")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.cluster_tls import CertificateError, make_certificates

    try:
        make_certificates(args.folder)
    except CertificateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FAILED
    d = args.folder.resolve()
    tls = f"--tls-ca-file {d}/ca.pem --tls-cert {d}/node.pem --tls-key {d}/node-key.pem"
    print(f"Certificates written to {d} (private keys readable by you only; keep ca-key.pem on this machine).\n"
          f"Copy the folder, without ca-key.pem, to the scheduler and every worker machine (scp, not e-mail), then:\n"
          f"  dask scheduler --protocol tls {tls}\n"
          f"  dask worker tls://SCHEDULER:8786 --nworkers \"$(nproc)\" --nthreads 1 {tls}\n"
          f"  genre-desktop-cli analyze --cluster tls://SCHEDULER:8786 --tls {d}")
    return OK
