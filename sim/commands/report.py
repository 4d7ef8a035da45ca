"""`sim report RESULT.nc [...] -o FILE.html`: one self-contained HTML report of results."""

from __future__ import annotations

from pathlib import Path


def register(commands) -> None:
    report = commands.add_parser(
        "report",
        help="one self-contained HTML report: scenarios, key table, goal checks, fit to the documents, figures, provenance",
        description="Writes one HTML file with every figure embedded (base64 PNG) and no external resource, so it "
                    "opens without a network.",
    )
    report.add_argument("results", nargs="+", help="result files (.nc) written by `sim run`, or one written by `sim compare` "
                                                   "(levers, lever responses, differences with their bands, costs, goals)")
    report.add_argument("-o", "--output", default=None, help="HTML file to write (default: <first result>_report.html beside it)")
    report.add_argument("--vars", nargs="+", metavar="VAR", default=None, help="only these variables in the figures (default: all contract variables)")
    report.add_argument("--overwrite", action="store_true", help="replace an existing report file")
    report.set_defaults(handler=command_report)


def command_report(args) -> int:
    from sim.output import atomic_target, check_output_path
    from sim.results import load_results, quiet_about_nan, single_comparison, warn_nan_only

    paths = [Path(p) for p in args.results]
    target = Path(args.output) if args.output else paths[0].with_name(f"{paths[0].stem}_report.html")
    results = load_results(paths)
    comparison = single_comparison(paths, results)
    from sim.plotting import check_variables
    from sim.report import build_comparison_report, build_report
    from sim.runner import distributions_of

    variables = check_variables(args.vars) if args.vars else None
    check_output_path(target, args.overwrite)  # after every input is checked: it makes a missing folder
    warn_nan_only("report", paths, results, variables)
    with quiet_about_nan():
        text = (build_report(results, variables, distributions_of) if comparison is None
                else build_comparison_report(comparison, variables))
    with atomic_target(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text.encode('utf-8')) / 1e6:.1f} MB)")
    return 0
