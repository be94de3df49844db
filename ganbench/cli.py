"""The ganbench command line: run, list, compare, diagnose, report, check, sensitivity."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import InputError, OutputError
from .interrupts import Interrupted


class Count(click.IntRange):
    """A whole-number option: ``'zero' is not a valid whole number``."""

    name = "whole number"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ganbench")
def cli():
    """Benchmark and diagnose GAN training: convergence, mode coverage, gradients, quality."""


@cli.command()
@click.argument("suite", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: results/<suite name>).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--executor", default="auto", show_default=True,
              help="local (this process), process (worker processes), ray, slurm (SLURM jobs "
                   "through submitit), or auto.")
@click.option("--workers", type=Count(min=1), default=None, metavar="N",
              help="Worker processes for --executor process/auto (default: one per CPU core).")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="With --executor ray: the cluster to join (e.g. auto, or ray://host:10001).")
@click.option("--partition", default=None, metavar="NAME",
              help="With --executor slurm: the partition (default: the cluster's default).")
@click.option("--time-limit", default=None, metavar="TIME",
              help="With --executor slurm: each job's time limit, minutes or [D-]HH:MM:SS "
                   "(default: the partition's); a job out of time is requeued and resumes.")
@click.option("--account", default=None, metavar="NAME",
              help="With --executor slurm: the account jobs are charged to.")
@click.option("--cpus", type=Count(min=1), default=None, metavar="N",
              help="With --executor slurm: CPUs per job (its torch threads; default 1).")
@click.option("--sbatch", "sbatch", multiple=True, metavar="FLAG",
              help="With --executor slurm: another sbatch flag, e.g. --sbatch=--qos=high; "
                   "repeatable. The suite's executor: {slurm: {...}} block takes the same "
                   "settings (partition, time_limit, account, cpus, sbatch).")
@click.option("--import", "imports", multiple=True, metavar="MODULE",
              help="Import a module (or .py file) that registers your own variants; repeatable.")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE",
              help="Override a setting of the suite, as editing its file would; repeatable. "
                   "PATH: defaults.<setting> or variants.<variant>.<setting>, settings as in "
                   "sweep: (steps, optimizer.lr, regularizers[0].weight), or seeds/name; VALUE: "
                   "YAML, e.g. 'defaults.optimizer={name: adam, lr: 1e-3}'. Recorded in "
                   "OUT/suite.yaml; on resume the runs it changes are rerun.")
@click.option("--seeds", default=None, metavar="N|LIST",
              help="Override the suite's seeds: a count (3) or a list (0,1,2).")
@click.option("--log", "log", multiple=True, metavar="TRACKERS",
              help="Log each run, each evaluation as it trains, to experiment trackers: "
                   "tensorboard (OUT/tb), wandb (offline in OUT/wandb unless WANDB_MODE=online), "
                   "mlflow (experiment = suite; MLFLOW_TRACKING_URI, else "
                   "sqlite:///OUT/mlflow.db); comma-separated or repeated. Each is an extra: "
                   "pip install 'ganbench[tensorboard]'.")
@click.option("--force", is_flag=True, help="Rerun finished runs instead of resuming.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--deterministic", is_flag=True,
              help="Deterministic GPU kernels (cuDNN, cuBLAS, no TF32): bit-for-bit repeats on "
                   "the same GPU and versions, somewhat slower.")
@click.option("--debug", is_flag=True,
              help="Train in this process (the local executor) and stop at the first error "
                   "with its traceback, instead of recording failed runs.")
@click.option("--until-decided", is_flag=True,
              help="Seeds on demand: after the suite's seeds, add blocks of new seeds only to "
                   "the variants whose comparisons with the reference (each dataset's key "
                   "metrics) are undecided, until each is better, worse or equivalent at the "
                   "family's error rate (a group-sequential design, OUT/decisions.json), or "
                   "--max-seeds is reached.")
@click.option("--max-seeds", type=Count(min=1), default=None, metavar="N",
              help="With --until-decided: the most seeds a variant gets (default 4x the "
                   "suite's seeds).")
@click.option("--look-seeds", type=Count(min=1), default=None, metavar="N",
              help="With --until-decided: new seeds per look (default the suite's seeds).")
@click.option("--reference", default=None, metavar="VARIANT",
              help="With --until-decided: the variant the others are compared with "
                   "(default nonsaturating if present, else the first).")
@click.option("--metric", "decide_metrics", multiple=True, metavar="NAME",
              help="With --until-decided: a metric to decide on; repeatable (default each "
                   "dataset's key metrics).")
@click.option("--margin", "margins", multiple=True, metavar="METRIC=VALUE",
              help="With --until-decided: an equivalence margin (two one-sided tests), e.g. "
                   "modes_captured=0.5; repeatable. Without one a metric is never equivalent.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.05, show_default=True,
              help="With --until-decided: the family's error rate (split over its comparisons).")
@click.option("--spending", type=click.Choice(["obrien_fleming", "pocock"]),
              default="obrien_fleming", show_default=True,
              help="With --until-decided: the Lan-DeMets alpha-spending function over looks.")
def run(suite, out, device, executor, workers, ray_address, partition, time_limit, account, cpus,
        sbatch, imports, sets, seeds, log, force, no_progress, deterministic, debug, until_decided,
        max_seeds, look_seeds, reference, decide_metrics, margins, alpha, spending):
    """Train every run of SUITE (a YAML file) and write the results folder; print the
    key metrics per dataset and variant (the full table is OUT/table.md).

    A folder that already holds finished runs of the same suite is resumed: only
    missing or changed runs are trained.
    """
    from .analysis.tables import key_text
    from .config.overrides import load
    from .runs.api import main_echo, run as run_suite
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file, not a folder; give the results folder to write "
                         "(a new or an existing one).")
    cluster = {"partition": partition, "time_limit": time_limit, "account": account,
               "cpus": cpus, "sbatch": list(sbatch)}
    _only_with(executor == "slurm", cluster,
               "a setting of --executor slurm only; add --executor slurm, or leave it out.")
    _only_with(until_decided, dict(max_seeds=max_seeds, look_seeds=look_seeds,
                                   reference=reference, metric=decide_metrics, margin=margins),
               "only with --until-decided; add it or drop the option.")
    parsed = load(suite, tuple(sets), seeds, list(imports))
    options = dict(device=device, executor=executor, workers=workers, force=force,
                   progress=not no_progress, ray_address=ray_address,
                   deterministic=deterministic, log=list(log), debug=debug,
                   executor_options=cluster)
    if until_decided:
        summary = _until_decided(parsed, out, options, max_seeds, look_seeds, reference,
                                 list(decide_metrics), margins, alpha, spending)
    else:
        summary = run_suite(parsed, out, **options, echo=main_echo)
    out = Path(summary.attrs["out"])
    if len(summary):
        click.echo(key_text(summary, [out]), nl=False)
    if until_decided:
        from .analysis.decisions import read
        from .analysis.decisions_render import text
        click.echo("\n" + text(read(out)), nl=False)
    counts = summary.status.value_counts().to_dict()
    click.echo(f"ganbench: {', '.join(f'{v} {k}' for k, v in counts.items())} of "
               f"{len(summary)} runs; full table: {out / 'table.md'}, per run: "
               f"{out / 'summary.csv'}", err=True)
    if counts.get("failed"):
        first = summary.run_id[summary.status == "failed"].iloc[0]
        click.echo(f"ganbench: each failed run's traceback is in its error.txt (e.g. "
                   f"{out / 'runs' / first / 'error.txt'}); --debug stops at the first error "
                   "with its traceback", err=True)
        sys.exit(1)


def _until_decided(parsed, out, options, max_seeds, look_seeds, reference, metrics, margins,
                   alpha, spending):
    from .runs.api import main_echo
    from .runs.until_decided import design_of, run_until_decided
    from .metrics.catalogue import direction, lookup
    for m in metrics:
        if lookup(m) is None or not direction(m):
            raise InputError(f"--metric {m}: not a metric with a better direction; e.g. "
                             "modes_captured, hq_fraction, reverse_kl, fd (ganbench list).")
    design = design_of(parsed, max_seeds, look_seeds, reference, alpha, spending,
                       metrics or None, _margins(margins))
    summary, _ = run_until_decided(parsed, out, design, main_echo, **options)
    return summary


def _margins(given) -> dict:
    """--margin METRIC=VALUE, each checked: a known metric, a number > 0."""
    from .metrics.catalogue import lookup
    out = {}
    for text in given:
        name, eq, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not eq or lookup(name.strip()) is None or not number > 0:
            raise InputError(f"--margin {text}: expected METRIC=VALUE with a known metric and a "
                             "number > 0, e.g. --margin modes_captured=0.5.")
        out[name.strip()] = number
    return out


def _only_with(active: bool, given: dict, why: str) -> None:
    """Options that mean something only beside another (``active``: it was given): the
    first of ``given`` that was set anyway is one line, before any work."""
    for name, value in given.items():
        if not active and value not in (None, [], ()):
            raise InputError(f"--{name.replace('_', '-')}: {why}")


@cli.command(name="compare")
@click.argument("outs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--by", default="variant", show_default=True,
              help="Column whose values are compared (within each dataset).")
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Metric to compare; repeatable (default: each dataset's key metrics).")
@click.option("--all", "all_metrics", is_flag=True,
              help="Show and test every metric with values (constants are never tested).")
@click.option("--reference", default=None, metavar="VARIANT",
              help="Group the others are tested against (default: nonsaturating if present, "
                   "else the first).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True), default=0.05, show_default=True,
              help="Significance level, applied to the adjusted p-values.")
@click.option("--correction", type=click.Choice(["holm", "bh"]), default="holm", show_default=True,
              help="Multiple-test adjustment over every test made: Holm (family-wise error) "
                   "or Benjamini-Hochberg (false discovery rate).")
@click.option("--pool", is_flag=True,
              help="Pool the runs of a variant even when their settings differ (refused "
                   "otherwise).")
@click.option("--format", "fmt_name", type=click.Choice(["md", "csv", "html"]), default="md",
              show_default=True)
@click.option("--published", default=None, metavar="SOURCE",
              help="Set a paper's published numbers beside ours (e.g. pacgan2018, veegan2017, "
                   "or a YAML file in their format): the value, their 95% interval, and "
                   "whether each lies within the other's interval.")
def compare_cmd(outs, by, metrics, all_metrics, reference, alpha, correction, pool, fmt_name,
                published):
    """Compare variants across seeds, per dataset: ok/N, mean and IQM with 95% bootstrap
    intervals, P(better than the reference), rank, and an exact Mann-Whitney test against
    the reference, its p adjusted over every test made. Tests each dataset's key
    metrics unless --metric or --all; every seed counts (failed and diverged by a stated
    rule). Several results folders are merged (e.g. the same suite run on two machines)
    when their runs of a variant had the same settings."""
    from .analysis.compare import compare, render, warn
    from .layout.summaries import load_summaries
    if published and by != "variant":
        raise InputError(f"--published matches variants to the paper's methods; drop --by {by}.")
    if all_metrics and metrics:
        raise InputError("--all and --metric: give one of them.")
    table = compare(load_summaries(list(outs), warn, pool), by, list(metrics) or None, reference,
                    alpha, all_metrics, correction, list(outs), across=not published,
                    plan=fmt_name != "html" and not published)
    if published:
        from .analysis.against_published import attach, suite_block
        from .published import load
        block, labels = suite_block(list(outs), published, load(published)["name"])
        table = attach(table, published, block, labels)
        if fmt_name == "md":
            click.echo(f"Published: {table.attrs['published']}: {table.attrs['paper']}\n")
    if fmt_name == "md" and len(outs) == 1:
        _decided(outs[0])
    click.echo(render(table, fmt_name, by, table.attrs["reference"]), nl=False)


def _decided(out: Path) -> None:
    """A folder of ``run --until-decided``: its decisions first, replayed from the runs."""
    from .analysis.compare import warn
    from .analysis.decisions import replay
    from .analysis.decisions_render import text
    from .layout.summaries import load_summaries
    doc, note = replay(out, load_summaries([out]))
    if note:
        warn(note)
    if doc is not None:
        click.echo(text(doc) + "\n")


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="HTML file to write (default: OUT/report.html; the summary PNG goes beside it).")
def report(out, output):
    """Write a self-contained HTML report of a results folder and a summary PNG: per
    dataset a verdict board, a sample picture per variant and the key metrics first, then
    training curves, D against D* and Dirac-GAN trajectories, the full tables last."""
    from .analysis.report import write_report
    html_path, png_path = write_report(out, output)
    click.echo(f"ganbench: report: {html_path}, summary figure: {png_path}", err=True)


@cli.command(name="diagnose")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--runs", "per_run", is_flag=True,
              help="One verdict per run (default: per variant, seeds counted).")
@click.option("--fail-on", default="diverged,unlearned,collapsed,vanishing,oscillating", show_default=True,
              metavar="LABELS", help="Labels that make the exit status 1 (comma-separated).")
def diagnose_cmd(path, per_run, fail_on):
    """What each run did (diverged, unlearned, collapsed, vanishing, oscillating, converged, or
    unconverged) with the numbers that say so; PATH is a results folder or one run's folder.
    Exit 0: no run carries a --fail-on label (nor failed); 1: some run does; 2: bad input."""
    from .analysis.diagnose import failing, load, parse_fail_on, per_run_text, per_variant_text
    labels = parse_fail_on(fail_on)
    runs = load(path)
    one = len(runs) == 1
    click.echo((per_run_text if per_run or one else per_variant_text)(runs), nl=False)
    bad = failing(runs, labels)
    if len(bad):
        click.echo(f"ganbench: diagnose: {len(bad)} of {len(runs)} runs {'/'.join(labels)} "
                   "(or failed)", err=True)
        sys.exit(1)
    click.echo(f"ganbench: diagnose: no run of {len(runs)} {'/'.join(labels)} (or failed)",
               err=True)


@cli.command(name="check")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path), required=True,
              help="Baseline YAML (e.g. results/baselines/ci.yaml).")
@click.option("--update", is_flag=True, help="Write the baseline from OUT instead of checking.")
@click.option("--pool", is_flag=True,
              help="Pool the runs of a variant even when their settings differ (refused "
                   "otherwise).")
def check_cmd(out, baseline, update, pool):
    """Fail (exit 1) when a gated metric of OUT is worse than the baseline by more than
    its margin (a one-sided exact test per rule), a run failed, or fewer runs finished;
    a test that cannot reach its alpha with these seeds also fails the gate."""
    from .analysis.check import REGRESSED, check_folder, regressions, to_markdown, \
        untestable, update as update_baseline
    from .analysis.gate_estimate import operating_text
    if update:
        written, cannot = update_baseline(out, baseline, pool)
        click.echo(f"ganbench: wrote baseline {baseline} from {out}", err=True)
        click.echo(f"ganbench: check: {operating_text(written['operating'])}", err=True)
        for line in cannot:
            click.echo(f"ganbench: check: warning: with as many seeds as the baseline, the check "
                       f"will say CANNOT TEST {line}", err=True)
        return
    table = check_folder(out, baseline, pool)
    click.echo(to_markdown(table), nl=False)
    changed = table.attrs.get("settings_changed")
    if changed:
        click.echo(f"ganbench: check: note: settings differ from the baseline's in "
                   f"{'; '.join(changed)}", err=True)
    for line in untestable(table):
        click.echo(f"ganbench: check: CANNOT TEST {line}", err=True)
    bad = regressions(table)
    regressed = regressions(table[table.verdict == REGRESSED])
    if regressed:
        click.echo(f"ganbench: check: REGRESSED: {', '.join(sorted(set(regressed)))}", err=True)
    if bad:
        sys.exit(1)
    click.echo(f"ganbench: check: {len(table)} checks ok against {baseline}", err=True)


@cli.command(name="sensitivity")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Metric to analyse; repeatable (default: every metric with a better "
                   "direction that has values).")
@click.option("--success", default=None, metavar="EXPR",
              help="When a setting succeeds, on its seed means, e.g. "
                   "'modes_captured >= 7 and hq_fraction >= 0.5'.")
def sensitivity_cmd(out, metrics, success):
    """Sensitivity to hyperparameters (Lucic et al. 2018): per dataset, variant and metric,
    over the settings a sweep tried, the success rate (95% Clopper-Pearson CI), median and
    IQR, the best setting, and the expected best of k settings tried. Writes
    OUT/sensitivity.md and OUT/sensitivity.csv."""
    from .analysis.sensitivity import write_sensitivity
    md_path, csv_path = write_sensitivity(out, list(metrics) or None, success)
    click.echo(md_path.read_text(), nl=False)
    click.echo(f"ganbench: sensitivity: {md_path}, {csv_path}", err=True)


@cli.command(name="list")
def list_cmd():
    """Print the shipped suites (ganbench run NAME) with their runs and measured wall
    time; every registry: datasets, objectives, regularizers, update schemes, models,
    optimizers, lr schedules, probes, checkpoint probes, feature extractors, executors,
    experiment trackers (--log); and the metrics."""
    from .config.shipped import WALL_TIMES, listing
    from .runs.progress import duration
    click.echo(f"suites (ganbench run NAME; wall time: a whole run on a 2-core CPU, from "
               f"{WALL_TIMES} beside them):")
    for row in listing():
        runs = f"{row['runs']} runs" if row["runs"] is not None else "? runs"
        wall = (f"{duration(row['wall_s'])} ({row['machine']})" if row["wall_s"] else
                row["note"] or "not measured")
        if row["changed"]:
            wall += "; its settings changed since"
        click.echo(f"  {row['name']:<16} {runs:>9}  {wall}")
    from .config.schema import REGISTRIES  # noqa: F401  (registers every component)
    from .data import datasets
    from .harness.checkpoints import checkpoint_probes
    from .harness.features import extractors
    from .harness.probes import probes
    from .metrics import catalogue
    from .models import discriminators, generators
    from .objectives import objectives
    from .optimizers import optimizers
    from .regularizers import regularizers
    from .runs.executors import executors
    from .schedules import schedules
    from .trackers import trackers
    from .updates import updates
    for reg in (datasets, objectives, regularizers, updates, generators, discriminators,
                optimizers, schedules, probes, checkpoint_probes, extractors, executors, trackers):
        click.echo(f"{reg.kind}s:")
        for name in reg:
            click.echo(f"  {name:<16} {reg.describe(name)}")
    click.echo("metrics (summary.csv columns; better direction):")
    for m in catalogue.metrics():
        if m.column:
            click.echo(f"  {m.name:<18} {m.better or '-':<6} {m.doc.split('; ')[0][:90]}")


def main(argv=None):
    """Entry point: bad input is one line on stderr and exit code 2, never a traceback."""
    try:
        cli.main(args=argv, standalone_mode=False, prog_name="ganbench")
    except click.ClickException as e:        # a usage error: missing, unknown, bad value
        click.echo(f"ganbench: error: {usage_line(e, sys.argv[1:] if argv is None else argv)}",
                   err=True)
        sys.exit(2)
    except InputError as e:
        click.echo(f"ganbench: error: {e}", err=True)
        sys.exit(2)
    except OutputError as e:
        click.echo(f"ganbench: error: {e}{_kept(e)}", err=True)
        sys.exit(74)
    except click.exceptions.Abort as e:      # click turns KeyboardInterrupt into Abort
        stop = e.__context__ if isinstance(e.__context__, Interrupted) else None
        _interrupted(stop)
    except KeyboardInterrupt as e:
        _interrupted(e if isinstance(e, Interrupted) else None)


def usage_line(e: click.ClickException, argv: list[str]) -> str:
    """Click's usage error as one line: the problem (with click's "Did you mean"), the
    command's usage, and where its options are listed."""
    ctx = getattr(e, "ctx", None)
    if ctx is None:                            # e.g. an option without its value
        name = next((a for a in argv if a in cli.commands), None)
        command = cli.commands.get(name, cli)
        ctx = click.Context(command, info_name=f"ganbench {name}" if name else "ganbench")
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
    message = "Missing command." if isinstance(e, no_args) else e.format_message()
    line = " ".join(message.split())
    line += "" if line.endswith((".", "?")) else "."
    if isinstance(e, click.exceptions.NoSuchCommand) or message == "Missing command.":
        line += f" Commands: {', '.join(ctx.command.list_commands(ctx))}."
    usage = " ".join(ctx.get_usage().split())
    return f"{line} {usage}; '{ctx.command_path} --help' says more."


def _kept(e) -> str:
    if getattr(e, "finished", None) is None:
        return ""
    return f" ({e.finished} of {e.total} runs finished in {e.out})"


def _interrupted(stop) -> None:
    """Exit 128 + signal (130 for Ctrl-C, 143 for SIGTERM), saying what is kept."""
    how = f" by {stop.name}" if stop is not None else ""
    click.echo(f"ganbench: interrupted{how}{_kept(stop)}; run the same command again to "
               "resume", err=True)
    sys.exit(stop.exit_code if stop is not None else 130)


if __name__ == "__main__":
    main()
