"""`sim sweep SWEEP.toml`: ensembles and sensitivity sweeps on a local pool or a Dask cluster."""

from __future__ import annotations

import shlex

from sim.commands.common import number_argument, positive_float, positive_int
from sim.errors import InputError, WriteFailed


PARSER = []  # the sweep subcommand's parser, once registered: its defaults (resume_command)
_seconds = number_argument(float, "be 0 or more", lambda value: value >= 0, "a number of seconds")


def resume_command(args) -> str:
    """The command that continues this sweep: every option given that is not its default (but
    --overwrite: the interrupted sweep is continued, not started again), quoted for the shell."""
    defaults = vars(PARSER[0].parse_args([args.sweep]))  # the sweep's own options, as if none were given
    words = ["sim", "sweep", args.sweep, "--resume"]
    for name, value in vars(args).items():
        if name in ("resume", "overwrite") or value == defaults.get(name, value):
            continue
        option = f"--{name.replace('_', '-')}"
        words += [option] if value is True else [option, str(value)]
    return shlex.join(words)


def command_sweep(args) -> int:
    from pathlib import Path

    from sim.output import check_output_directory
    from sim.sweep.spec import load_sweep

    if args.scheduler is not None and args.workers is not None:
        raise InputError(None, "--workers", "sets the local process pool; a Dask cluster's workers are set where it is started (drop --workers or --scheduler)")
    spec = load_sweep(args.sweep, scale=args.scale)
    out = Path(args.out)
    check_output_directory(out if out.exists() else out.parent)  # a missing OUT is created inside an existing folder
    from sim.sweep import analysis
    from sim.sweep.analysis import format_table
    from sim.sweep.design import sample_count
    from sim.sweep.execute import default_workers, run_sweep, scheduler_host_port

    if args.scheduler is not None:
        scheduler_host_port(args.scheduler)  # its form, before anything is printed or tried

    samples = sample_count(spec)
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else f"{min(args.workers or default_workers(), samples)} local worker(s)"
    scale = getattr(spec.model, "scale", None)
    print(
        f"sweep {spec.name}: {spec.method} over {len(spec.inputs)} input(s), {samples} sample(s) x {spec.seeds} seed(s)"
        + (f" at scale {scale:g}" if scale is not None else "")
        + f" on {where}",
        flush=True,
    )
    tables = {}

    def write_analysis(dataset, directory):
        written_tables, written = analysis.write_analysis(spec, dataset, directory)
        tables.update(written_tables)
        return written

    try:
        result = run_sweep(
            spec,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            overwrite=args.overwrite,
            checkpoint=args.checkpoint,
            progress=not args.quiet,
            finish=write_analysis,
        )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM
        print(f"sim: finished samples are saved; continue with: {resume_command(args)}", flush=True)
        raise
    except WriteFailed as error:  # a full disk: what was saved stays, for --resume
        raise WriteFailed(error.file, f"{error.message}; the samples saved before are kept: make room, then {resume_command(args)}") from None
    reused = f" ({result.reused} reused from the interrupted run)" if result.reused else ""
    print(f"ran {result.evaluated} sample(s){reused} in {result.elapsed:.1f} s on {result.executor}")
    if result.failed_samples:
        print(f"{result.failed_samples} of {result.samples} sample(s) failed and are left out of the analysis "
              f"(Morris: the steps to and from them; Sobol: their whole block); first: {result.errors[0]}")
    print(format_table(spec, tables, top=args.top))
    print(f"wrote {result.path}")
    for path in result.written:
        print(f"wrote {path}")
    return 0


def register(commands) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="run an ensemble, a sensitivity sweep (grid, oat, morris, sobol, lhs) or an experiment (policies x uncertainties) and analyse it",
        description=(
            "Run every sample of a sweep file on a local process pool (default: every core) or a Dask "
            "cluster, write OUT/<sweep>/results.nc as samples finish, then the SALib analysis: "
            "<method>.csv tables and tornado / Sobol-bar / over-time figures. An experiment (method = "
            "\"experiment\") writes outcomes by policy, its goals, the PRIM box where each goal fails, "
            "figures and report.html."
        ),
    )
    PARSER[:] = [sweep]
    sweep.add_argument("sweep", help="sweep file (TOML), e.g. scenarios/sweeps/morris_quick.toml")
    sweep.add_argument("--workers", type=positive_int, default=None, help="local worker processes (default: every core; 1 runs in this process)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on the Dask distributed cluster at ADDRESS, e.g. tcp://127.0.0.1:8786")
    sweep.add_argument("--resume", action="store_true", help="continue an interrupted sweep: finished samples are not run again")
    sweep.add_argument("--overwrite", action="store_true", help="discard an earlier sweep of the same name and start again")
    sweep.add_argument("--out", default="outputs/sweeps", help="output directory; results go to OUT/<sweep name>/ (default: outputs/sweeps)")
    sweep.add_argument("--scale", type=positive_float, default=None, help="share of real firms simulated, (0, 1]; default from the sweep or its scenario")
    sweep.add_argument("--checkpoint", type=_seconds, default=10.0, metavar="SECONDS", help="save finished samples at least this often (default: 10)")
    sweep.add_argument("--top", type=positive_int, default=10, help="inputs listed per output in the printed table (default: 10)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=command_sweep)
