"""Airflow DAG ``podcast_summary``: the podcast pipeline as daily Airflow tasks.

A thin adapter: every task calls the same ``podcast_pipeline.pipeline`` step as
the command line (prepare -> fetch each feed -> store each feed -> download ->
the publishers' transcripts and chapters -> transcribe when enabled) and passes only
small plain values (paths, counts) through XCom: each step's dataclass is turned
into a dict with ``dataclasses.asdict`` here, at the DAG's edge, and ``store``
rebuilds the ``FetchedFeed`` from its dict. Parsing
this file does no I/O: settings are read inside the tasks.

Settings, each an Airflow Variable (also settable as ``AIRFLOW_VAR_<NAME>``):
    podcast_feed_urls   feed URLs, a JSON list or one URL a line
                        (default: env ``PODCAST_FEED_URLS``, else the CLI's default feed)
    podcast_data_dir    database and audio folder
                        (default: env ``PODCAST_DATA_DIR``, else the CLI's default)
    podcast_transcribe  "true" to transcribe downloaded episodes (default: false)

``podcast_pipeline`` lives in ``Project_02/``; put that folder on Airflow's
``PYTHONPATH`` (see Project_02/README.md, "Running the pipeline on Apache Airflow").
"""
import json
import os
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Variable, chain, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from podcast_pipeline import pipeline, settings
from podcast_pipeline.run_lock import RunLock

FEED_URLS_VARIABLE = "podcast_feed_urls"
DATA_DIR_VARIABLE = "podcast_data_dir"
TRANSCRIBE_VARIABLE = "podcast_transcribe"
FEED_URLS_ENV = "PODCAST_FEED_URLS"

DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


def parse_feed_urls(text: str) -> list[str]:
    """Return the feed URLs in ``text``: a JSON list, or one URL a line.

    Blank lines and lines starting with ``#`` are ignored.
    """
    text = text.strip()
    if text.startswith("["):
        return [str(url).strip() for url in json.loads(text) if str(url).strip()]
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def configured_feed_urls() -> list[str]:
    """Feed URLs: Variable > env ``PODCAST_FEED_URLS`` > the CLI's default feed."""
    text = Variable.get(FEED_URLS_VARIABLE, default=None) or os.environ.get(FEED_URLS_ENV, "")
    return parse_feed_urls(text) or [settings.DEFAULT_FEED_URL]


def configured_data_dir() -> Path:
    """Data folder: Variable > env ``PODCAST_DATA_DIR`` > the CLI's default."""
    value = Variable.get(DATA_DIR_VARIABLE, default=None)
    return settings.resolve_data_dir(Path(value) if value else None)


@dag(
    dag_id="podcast_summary",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["podcast"],
    doc_md=__doc__,
)
def podcast_summary():
    """Fetch every feed, store its episodes, download the audio, fetch the publishers'
    transcripts and chapters (then transcribe where none was published)."""

    @task
    def prepare() -> str:
        """Create the data folder and migrate the database; return the data folder."""
        data_dir = configured_data_dir()
        pipeline.prepare(data_dir)
        return str(data_dir)

    @task
    def feed_urls() -> list[str]:
        """The feeds to fetch in this run (one mapped ``fetch`` task each)."""
        return configured_feed_urls()

    @task
    def fetch(data_dir: str, subscription_url: str) -> dict:
        """Download one feed (conditional GET) and stage its bytes on disk."""
        return asdict(pipeline.fetch(Path(data_dir), subscription_url))

    @task
    def store(data_dir: str, fetched: dict) -> dict:
        """Parse one staged feed and upsert its episodes in one transaction.

        Holds the run lock, like every task that writes the database or audio folder.
        """
        with RunLock(Path(data_dir)):
            return asdict(pipeline.store(Path(data_dir), pipeline.FetchedFeed(**fetched)))

    # A dead feed must not hold back the audio of the others (as in the CLI);
    # its failed task still marks the run as failed.
    @task(trigger_rule="all_done")
    def download(data_dir: str) -> dict:
        """Download the audio of every stored episode not yet on disk.

        Holds the data folder's run lock, so a CLI run downloading into the same
        folder makes this task fail and retry later instead of fetching twice.
        """
        with RunLock(Path(data_dir)):
            return asdict(pipeline.download(Path(data_dir)))

    # Like download: the feeds that were stored get their transcripts even if one failed.
    @task(trigger_rule="all_done")
    def transcripts(data_dir: str) -> dict:
        """Fetch and store the publishers' transcripts and chapters of the newest episodes.

        A document that cannot be fetched or read is a warning in the task log (and in
        the returned ``warnings``), not a failed task. Holds the run lock.
        """
        with RunLock(Path(data_dir)):
            return asdict(pipeline.fetch_transcripts(Path(data_dir)))

    @task
    def transcribe(data_dir: str) -> dict:
        """Transcribe the downloaded episodes when ``podcast_transcribe`` is true."""
        enabled = str(Variable.get(TRANSCRIBE_VARIABLE, default="false")).lower()
        if enabled not in ("1", "true", "yes"):
            raise AirflowSkipException(f"Variable {TRANSCRIBE_VARIABLE} is not true")
        with RunLock(Path(data_dir)):
            return asdict(pipeline.transcribe(Path(data_dir)))

    data_dir = prepare()
    fetched = fetch.partial(data_dir=data_dir).expand(subscription_url=feed_urls())
    stored = store.partial(data_dir=data_dir).expand(fetched=fetched)
    chain(stored, download(data_dir), transcripts(data_dir), transcribe(data_dir))


podcast_summary()
