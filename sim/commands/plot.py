"""`sim plot RESULT.nc [RESULT2.nc ...] [--vars ...] [--out DIR]`: fan-chart figures of results."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.errors import InputError


def register(commands) -> None:
    plot = commands.add_parser(
        "plot",
        help="figures of results: fan charts by group, documents' figures, goals, firm size and growth",
        description="Fan charts (median, 50% and 90% bands over runs) of the contract variables in grouped panels, "
                    "with the documents' figures as labelled points and the official goals as reference lines; several "
                    "results are overlaid, one colour each. Also the firm-size CCDF and growth-rate histogram. "
                    "Writes OUT/<results>_<group>.png.",
    )
    plot.add_argument("results", nargs="+", help="result files (.nc) written by `sim run`, or one written by `sim compare` "
                                                 "(drawn as each scenario's difference from the first, with the bands of "
                                                 "the seed-by-seed differences)")
    plot.add_argument("--vars", nargs="+", metavar="VAR", default=None,
                      help="only these variables (names of the result, or firm_size_ccdf / firm_growth_density); default: all contract variables")
    plot.add_argument("--out", default=None, help="output directory (default: that of the first result)")
    plot.add_argument("--overwrite", action="store_true", help="replace existing figure files")
    plot.set_defaults(handler=command_plot)


def output_stem(paths: list[Path]) -> str:
    """baseline.nc + digital.nc -> 'baseline_vs_digital'."""
    return "_vs_".join(p.stem for p in paths)


def command_plot(args) -> int:
    from sim.output import check_output_directory, check_output_path
    from sim.results import differences, load_results, quiet_about_nan, single_comparison, warn_nan_only

    paths = [Path(p) for p in args.results]
    out_dir = Path(args.out) if args.out else paths[0].parent
    results = load_results(paths)
    comparison = single_comparison(paths, results)
    from sim.plotting import check_variables, difference_plan, figure_plan, save_png

    variables = check_variables(args.vars) if args.vars else None
    check_output_directory(out_dir)  # after every input is checked: it makes a missing folder
    from sim.runner import distributions_of

    if comparison is not None:
        results = differences(comparison)
        plan, stem = difference_plan(results, variables), f"{output_stem(paths)}_differences"
    else:
        plan, stem = figure_plan(results, variables, distributions_of), output_stem(paths)
    targets = [out_dir / f"{stem}_{group.slug}.png" for group, _ in plan]
    for target in targets:
        check_output_path(target, args.overwrite)
    warn_nan_only("plot", paths, results, variables)
    written = []
    for (group, build), target in zip(plan, targets):
        try:
            with quiet_about_nan():
                figure = build()
        except InputError as error:  # only the firm-level figure can fail here (no scenario to re-run)
            print(f"sim plot: note: {group.title} skipped: {error.one_line()}", file=sys.stderr)
            continue
        with quiet_about_nan():
            save_png(figure, target)
        written.append(target)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
