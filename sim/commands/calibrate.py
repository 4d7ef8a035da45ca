"""`sim calibrate`: fit the free parameters to the documents' figures; `--report` shows the fit."""

from __future__ import annotations

import csv
from pathlib import Path

FIT_TABLE = "calibration_fit.csv"  # written by --report into --out
FIT_FIGURE = "calibration_fit.png"
FACTS_FIGURE = "calibration_facts.png"


def register(commands) -> None:
    from sim.commands.common import positive_float, positive_int, scale_range, seed_count

    parser = commands.add_parser("calibrate", help="fit the free parameters to the documents' figures (method of simulated moments)")
    parser.add_argument("--quick", action="store_true", help="a small search (about five minutes)")
    parser.add_argument("--workers", type=positive_int, default=None, help="worker processes (default: every core)")
    parser.add_argument("--report", action="store_true",
                        help="do not fit: run the calibrated baseline and print the fit table, writing it to --out")
    parser.add_argument("--seeds", type=seed_count, default=10, help="runs for --report (default 10)")
    parser.add_argument("--scale", type=positive_float, default=None, help=f"scale for --report, {scale_range()} (default: the calibration's)")
    parser.add_argument("--out", default="outputs", help="directory for the --report table and figures (default: outputs)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --report table and figures")
    parser.set_defaults(handler=run)


def run(args) -> int:
    if args.report:
        from sim.output import check_output_path

        for name in (FIT_TABLE, FIT_FIGURE, FACTS_FIGURE):  # before the heavy imports and any work
            check_output_path(Path(args.out) / name, args.overwrite)
    from sim.calibrate import calibrate, load_settings, write_parameters

    settings = load_settings(quick=args.quick)
    if args.report:
        return report(args, settings)
    print(f"calibrating {len(settings.free)} parameters on seeds {list(settings.seeds)} at scale {settings.scale} "
          f"({settings.search_points} search points, {settings.rounds} round(s) of block refinement, {len(settings.blocks)} blocks)")
    result = calibrate(settings, workers=args.workers)
    write_parameters(result)
    print(f"distance {result.loss:.4f} after {result.evaluations} evaluations in {result.seconds:.0f} s")
    for name, value in result.values.items():
        print(f"  {name} = {value:.6g}")
    print("wrote calibration/params.toml")
    return 0


def report(args, settings) -> int:
    import xarray as xr

    from sim.calibrate import fit_table, format_fit_table
    from sim.calibration_report import facts_figure, facts_text, fit_figure
    from sim.output import atomic_target
    from sim.plotting import save_png
    from sim.runner import default_seeds, simulate
    from sim.scenario import load_scenario

    path = Path(args.out) / FIT_TABLE
    scale = args.scale or settings.scale
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml")
    dataset = xr.concat([simulate(scenario, seed, scale) for seed in default_seeds(args.seeds)], dim="run")
    rows = fit_table(dataset, settings)
    described = f"calibrated baseline, {args.seeds} runs at scale {scale}"
    print(described)
    print(format_fit_table(rows))
    print()
    print(facts_text(dataset))
    with atomic_target(path) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["key", "role", "measure", "year", "unit", "document", "model_mean", "model_p05", "model_p95",
                             "error", "error_over_tolerance", "within_tolerance"])
            for r in rows:
                writer.writerow([r.key, r.role, r.measure, r.year, r.unit, r.document, r.model_mean, r.model_low,
                                 r.model_high, r.error, r.standardized, r.within_tolerance])
    save_png(fit_figure(dataset, f"The documents' figures against the {described}"), path.parent / FIT_FIGURE)
    save_png(facts_figure(dataset, f"Stylized facts of the {described}"), path.parent / FACTS_FIGURE)
    print(f"wrote {path}, {path.parent / FIT_FIGURE} and {path.parent / FACTS_FIGURE}")
    return 0
