"""The ``podcast_summary`` DAG on a real Apache Airflow (skipped without Airflow).

Run by ``.ci/stage-airflow.sh``, which installs Project_02/requirements-airflow.txt
in its own virtual environment and sets, before Airflow is imported, a fresh
``AIRFLOW_HOME`` (migrated with ``airflow db migrate``), ``AIRFLOW__CORE__DAGS_FOLDER``
= Project_02/dags and ``PYTHONPATH`` = Project_02.
"""
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

airflow_configuration = pytest.importorskip("airflow.configuration")
airflow_dagbag = pytest.importorskip("airflow.dag_processing.dagbag")
dag_module = pytest.importorskip("dags.podcast_summary_dag")

pytestmark = pytest.mark.airflow

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"
AUDIO = {"/audio/one.mp3": b"ID3" + b"\x01" * 3000, "/audio/two.mp3": b"ID3" + b"\x02" * 5000}
VTT = b"""WEBVTT

00:00:00.000 --> 00:00:04.000
<v Host>Welcome to the Airflow test show.

00:12:34.000 --> 00:12:40.000
<v Guest>Now, the federal reserve and interest rates.
"""
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
  <title>Airflow Test Show</title>
  <description>A feed served from 127.0.0.1 for the DAG test.</description>
  <item>
    <guid>episode-two</guid><title>Episode two</title>
    <pubDate>Tue, 02 Jan 2024 06:00:00 GMT</pubDate>
    <enclosure url="{base}/audio/two.mp3" type="audio/mpeg" length="5003"/>
    <podcast:transcript url="{base}/t/two.vtt" type="text/vtt" language="en"/>
  </item>
  <item>
    <guid>episode-one</guid><title>Episode one</title>
    <pubDate>Mon, 01 Jan 2024 06:00:00 GMT</pubDate>
    <enclosure url="{base}/audio/one.mp3" type="audio/mpeg" length="3003"/>
  </item>
</channel></rss>
"""


def load_dag():
    """Parse the DAG folder the way Airflow's DAG processor does; return the DAG."""
    bag = airflow_dagbag.DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("podcast_summary")


def test_dag_folder_imports_without_errors() -> None:
    """Every file in the DAG folder imports, and it defines exactly our DAG."""
    bag = airflow_dagbag.DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors
    assert sorted(bag.dag_ids) == ["podcast_summary"]


def test_parsing_reads_no_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are read when a task runs, never while the scheduler parses the file."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"Variable.get{args} called while parsing")
    monkeypatch.setattr(dag_module.Variable, "get", refuse)
    assert load_dag().dag_id == "podcast_summary"


def test_dag_schedule_and_retries() -> None:
    """Daily, no catch-up, and every task retries after a delay."""
    dag = load_dag()
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert all(task.retries >= 1 and task.retry_delay.total_seconds() > 0 for task in dag.tasks)
    assert dag.schedule == "@daily"


def test_task_graph_has_the_pipeline_steps_in_order() -> None:
    """prepare and feed_urls -> fetch (mapped) -> store (mapped) -> download -> transcripts
    -> transcribe."""
    dag = load_dag()
    upstream = {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "prepare": [],
        "feed_urls": [],
        "fetch": ["feed_urls", "prepare"],
        "store": ["fetch", "prepare"],
        "download": ["prepare", "store"],
        "transcripts": ["download", "prepare"],
        "transcribe": ["prepare", "transcripts"],
    }
    assert dag.get_task("fetch").is_mapped and dag.get_task("store").is_mapped
    assert dag.get_task("transcripts").trigger_rule == dag.get_task("download").trigger_rule


@pytest.mark.parametrize("text, expected", [
    ('["http://a.test/feed", " http://b.test/rss "]', ["http://a.test/feed", "http://b.test/rss"]),
    ("http://a.test/feed\n\n# paused: http://old.test\n  http://b.test/rss\n",
     ["http://a.test/feed", "http://b.test/rss"]),
    ("   ", []),
])
def test_feed_urls_variable_takes_a_json_list_or_lines(text: str, expected: list[str]) -> None:
    """``podcast_feed_urls`` may be a JSON list or one URL a line (``#`` comments)."""
    assert dag_module.parse_feed_urls(text) == expected


def test_dag_run_stores_episodes_audio_and_transcript(server, tmp_path: Path) -> None:
    """A whole ``dag.test()`` run against a local feed fills the database and the disk,
    and stores the publisher's transcript of episode two as searchable segments."""
    assert Path(airflow_configuration.conf.get("core", "dags_folder")).resolve() == DAGS_FOLDER, (
        "run through .ci/stage-airflow.sh (AIRFLOW__CORE__DAGS_FOLDER=Project_02/dags)")
    server.add("/feed.xml", FEED.format(base=server.base_url).encode())
    for path, body in AUDIO.items():
        server.add(path, body, content_type="audio/mpeg")
    server.add("/t/two.vtt", VTT, content_type="text/vtt")
    data_dir = tmp_path / "podcasts"
    variables = tmp_path / "variables.json"
    variables.write_text(json.dumps({"podcast_data_dir": str(data_dir),
                                     "podcast_feed_urls": server.url("/feed.xml")}))

    dag_run = load_dag().test(variable_file_path=str(variables))

    states = {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}
    assert states == {("prepare", -1): "success", ("feed_urls", -1): "success",
                      ("fetch", 0): "success", ("store", 0): "success",
                      ("download", -1): "success", ("transcripts", -1): "success",
                      ("transcribe", -1): "skipped"}
    assert dag_run.state == "success"
    with closing(sqlite3.connect(data_dir / "podcasts.db")) as conn:
        titles = sorted(row[0] for row in conn.execute("SELECT title FROM episodes"))
        done = conn.execute("SELECT path, bytes FROM downloads WHERE status = 'done' "
                            "ORDER BY bytes").fetchall()
        segments = conn.execute(
            "SELECT e.title, s.start_seconds, s.speaker FROM segments_fts f "
            "JOIN segments s ON s.id = f.rowid JOIN episodes e ON e.id = s.episode_id "
            "WHERE segments_fts MATCH '\"federal reserve\"'").fetchall()
        source = conn.execute("SELECT source, segment_count FROM transcripts").fetchall()
    assert titles == ["Episode one", "Episode two"]
    assert segments == [("Episode two", 754.0, "Guest")]
    assert source == [("publisher", 2)]
    assert len(server.hits("/t/two.vtt")) == 1
    assert [size for _, size in done] == [len(AUDIO["/audio/one.mp3"]),
                                          len(AUDIO["/audio/two.mp3"])]
    assert [(data_dir / path).read_bytes() for path, _ in done] == [AUDIO["/audio/one.mp3"],
                                                                    AUDIO["/audio/two.mp3"]]
    assert not list(data_dir.rglob("*.part"))
