"""Designs: the sample matrix X (samples x inputs) of each method, and each sample's seeds.

Both are pure functions of the sweep file: the design of SALib's samplers is seeded with
`sampler_seed`; a sample's seeds depend on its index and the seed number only, never on which
worker runs it or when, so every executor produces the same numbers.
"""

from __future__ import annotations

import itertools

import numpy as np


def _levels(item, count: int) -> np.ndarray:
    if item.values is not None:
        return np.array(item.values, dtype=np.float64)
    return np.linspace(item.lower, item.upper, count)


def sample_count(spec) -> int:
    options, d = spec.options, len(spec.inputs)
    if spec.method == "grid":
        return int(np.prod([len(_levels(i, options["levels"])) for i in spec.inputs]))
    if spec.method == "oat":
        return len(oat_design(spec))
    if spec.method == "morris":
        return (options["optimal_trajectories"] or options["trajectories"]) * (d + 1)
    if spec.method == "sobol":
        return options["samples"] * (2 * d + 2 if options["second_order"] else d + 2)
    if spec.method == "experiment":
        return options["samples"] * len(spec.policies)
    return options["samples"]


def oat_design(spec) -> np.ndarray:
    """The base point (every input at its base value), then each input moved alone over its levels."""
    base = np.array([i.base for i in spec.inputs], dtype=np.float64)
    rows = [base]
    for column, item in enumerate(spec.inputs):
        for value in _levels(item, spec.options["levels"]):
            if value != base[column]:
                row = base.copy()
                row[column] = value
                rows.append(row)
    return np.array(rows)


def build_design(spec) -> np.ndarray:
    """X, float64 (samples x inputs), in SALib's order for morris and sobol."""
    options, problem, seed = spec.options, spec.problem(), spec.sampler_seed
    if spec.method == "grid":
        axes = [_levels(i, options["levels"]) for i in spec.inputs]
        design = np.array(list(itertools.product(*axes)), dtype=np.float64)
    elif spec.method == "oat":
        design = oat_design(spec)
    elif spec.method == "morris":
        from SALib.sample import morris

        design = morris.sample(
            problem,
            options["trajectories"],
            num_levels=options["levels"],
            optimal_trajectories=options["optimal_trajectories"],
            seed=seed,
        )
    elif spec.method == "sobol":
        from SALib.sample import sobol

        design = sobol.sample(problem, options["samples"], calc_second_order=options["second_order"], seed=seed)
    elif spec.method == "lhs":
        from SALib.sample import latin

        design = latin.sample(problem, options["samples"], seed=seed)
    elif spec.method == "experiment":
        design = experiment_design(spec)
    else:  # load_sweep refuses other methods
        raise ValueError(f"unknown method {spec.method!r}")
    return np.ascontiguousarray(design, dtype=np.float64)


def experiment_design(spec) -> np.ndarray:
    """Policies crossed with uncertainties: a Latin hypercube of `samples` points over the
    uncertainties (every input but the first, 'policy'), repeated under each policy in turn, so row
    p x samples + s runs policy p on uncertainty sample s."""
    from SALib.sample import latin

    uncertainties = spec.inputs[1:]
    problem = {"num_vars": len(uncertainties), "names": [i.name for i in uncertainties],
               "bounds": [[i.lower, i.upper] for i in uncertainties]}
    points = latin.sample(problem, spec.options["samples"], seed=spec.sampler_seed)
    policies = np.repeat(np.arange(len(spec.policies), dtype=np.float64), len(points))
    return np.column_stack([policies, np.tile(points, (len(spec.policies), 1))])


def uncertainty_sample(spec, index: int) -> int:
    """The uncertainty sample of design row `index` (for an experiment; else the row itself)."""
    return index % spec.options["samples"] if spec.method == "experiment" else index


def run_values(spec, design: np.ndarray) -> np.ndarray:
    """The values actually run: whole-year inputs rounded to the nearest year."""
    values = design.copy()
    for column, item in enumerate(spec.inputs):
        if item.integer:
            values[:, column] = np.clip(np.round(values[:, column]), item.lower, item.upper)
    return values


def sample_seeds(spec, index: int) -> tuple[int, ...]:
    """Seeds of sample `index`: 1..n for every sample (common random numbers), or independent
    seeds derived from (sampler_seed, sample index, seed number) alone; in an experiment every
    policy runs an uncertainty sample on the same seeds (its index is the uncertainty sample's)."""
    if spec.seed_policy == "common":
        return tuple(range(1, spec.seeds + 1))
    index = uncertainty_sample(spec, index)
    return tuple(
        int(np.random.SeedSequence(entropy=spec.sampler_seed, spawn_key=(int(index), number)).generate_state(1, np.uint32)[0])
        for number in range(spec.seeds)
    )
