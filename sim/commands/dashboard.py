"""`sim dashboard`: serve the interactive dashboard (sim/dashboard.py) with Solara."""

from __future__ import annotations

from sim.commands.common import number_argument
from sim.dashboard_settings import DEFAULT_SCALE, SCALE_ENV


port_number = number_argument(int, "lie in 1-65535", lambda value: 1 <= value <= 65535, "a whole number")


def register(commands) -> None:
    from sim.commands.common import positive_float, scale_range

    dashboard = commands.add_parser(
        "dashboard",
        help="interactive dashboard in the browser (Mesa SolaraViz): sliders, step, live plots",
        description="Serves a Mesa SolaraViz page that runs the model at a reduced scale: sliders for the main "
                    "parameters and the seed, Reset/Step/Play, plots of key indicators redrawn as it steps.",
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
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
