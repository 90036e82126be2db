"""`vigil explore`: unsupervised looks at the data (``vigil.ml.sleep_explore``). The lead registers the group with
``cli.add_command(explore)``; VigilError becomes the top-level group's one-line ``Error: ...``."""

from __future__ import annotations

from pathlib import Path

import click

explore = click.Group("explore", help="Unsupervised looks at the data: what the epochs group into, against PSG.")


@explore.command("sleep")
@click.option("--data", required=True, help="'synthetic' (built-in nights), a Walch sleep-accel or ICHI folder / file.")
@click.option("--from", "data_format", type=click.Choice(["ichi", "walch", "synthetic"]), default=None,
              help="Data format (default: detected; a folder of p*.npy nights is ichi, else walch).")
@click.option("--method", type=click.Choice(["kmeans", "optics"]), default="kmeans",
              help="KMeans (--clusters) or OPTICS (density; its own number of clusters, a 4,000-epoch sample at most).")
@click.option("--features", type=click.Choice(["movement", "context"]), default="movement",
              help="Per epoch: 7 movement features, or the device's 216-value context input.")
@click.option("--clusters", type=int, default=3, help="KMeans: how many clusters.")
@click.option("--subjects", type=int, default=None, help="Synthetic: people (default 8); else the first N (all).")
@click.option("--hours", type=float, default=8.0, help="Synthetic only: hours in bed per night.")
@click.option("--seed", default=0, help="Seed of KMeans, the OPTICS sample, the plot's sample, synthetic people.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a PNG: PSG stage share per cluster, and the epochs' first two principal components.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON (table with feature means per cluster).")
def explore_sleep_cmd(data: str, data_format: str | None, method: str, features: str, clusters: int,
                      subjects: int | None, hours: float, seed: int, plot: Path | None, as_json: bool) -> None:
    """Cluster the scored epochs of DATA without their labels (standardized features, scikit-learn KMeans or OPTICS)
    and hold the clusters against the PSG stages: contingency table, purity, adjusted Rand index.

    \b
    Example: vigil explore sleep --data ../shared/data/ichi2014_train --from ichi --method kmeans --plot k.png"""
    import vigil.console as ui
    from vigil.ml.sleep_data import detect_sleep_format
    from vigil.ml.sleep_explore import explore_sleep
    from vigil.report.stage_labels import words_for_kind
    kind = "synthetic" if data == "synthetic" else data_format or detect_sleep_format(data)
    report = ui.with_progress(as_json, explore_sleep, data, data_format, method, features, clusters, subjects, seed,
                              plot, hours=hours, labels_name=words_for_kind(kind).short)
    ui.print_exploration(report, as_json)
