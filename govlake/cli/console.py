"""`govlake console [--port N]`: serve the governance console over HTTPS on loopback (the local
certificate Trino uses), until interrupted."""
from __future__ import annotations

from govlake.cli._output import info


def register(sub) -> None:
    p = sub.add_parser("console", help="serve the web console for stewards, analysts, compliance officers and operators")
    p.add_argument("--port", type=int, help="HTTPS port (default: settings, GOVLAKE_CONSOLE_PORT)")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from govlake.console.app import create_app
    from govlake.context import Context

    ctx = Context()
    _, (pem, _cert) = ctx.console_secrets()
    port = args.port or ctx.settings.console_port
    host = ctx.settings.trino_host  # loopback: the certificate names 127.0.0.1 and localhost
    info(f"console at https://{host}:{port}/ (sign in as a registered identity; `govlake identity connect USER --show-password`)")
    uvicorn.run(create_app(ctx), host=host, port=port, ssl_certfile=str(pem), ssl_keyfile=str(pem), log_level="warning",
                access_log=False)  # access lines would carry query strings: none are logged
    return 0
