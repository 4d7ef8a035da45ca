"""`sim dashboard`: serve the interactive dashboard (sim/dashboard.py) with Solara."""

from __future__ import annotations

from sim.commands.common import number_argument
from sim.dashboard_settings import DEFAULT_SCALE, SCALE_ENV


port_number = number_argument(int, "lie in 1-65535", lambda value: 1 <= value <= 65535, "a whole number")


def register(commands) -> None:
    from sim.commands.common import positive_float, scale_range

    dashboard = commands.add_parser(
        "dashboard",
        help="interactive dashboard in the browser: lever and parameter sliders, each setting beside the baseline",
        description="Serves a page (Solara, Mesa's model) that runs the model at a reduced scale: a slider per policy "
                    "lever and for the main parameters and the seed, each showing its value; every change re-runs "
                    "2012-2035 and draws key indicators beside the baseline of the same seed (grey, dashed).",
    )
    # localhost rather than 127.0.0.1: Solara warns on every page load served over http under any other name
    # (sim/dashboard.py says why the warning does not concern the dashboard).
    dashboard.add_argument("--host", default="localhost", help="address to listen on (default: localhost, this machine only)")
    dashboard.add_argument("--port", type=port_number, default=8765, help="port (default: 8765)")
    dashboard.add_argument("--scale", type=positive_float, default=DEFAULT_SCALE,
                           help=f"share of real firms simulated, {scale_range()} (default: {DEFAULT_SCALE:g}; small keeps steps quick)")
    dashboard.set_defaults(handler=command_dashboard)


def command_dashboard(args) -> int:
    import os
    import sys

    argv = [sys.executable, "-m", "solara", "run", "sim.dashboard", "--host", args.host, "--port", str(args.port),
            "--production", "--no-open"]
    print(f"sim dashboard: serving on http://{args.host}:{args.port} at scale {args.scale:g} (Ctrl-C stops it)", flush=True)
    os.execve(sys.executable, argv, {**os.environ, SCALE_ENV: str(args.scale)})  # the server replaces this process
    return 0
