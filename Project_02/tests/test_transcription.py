"""Offline speech-to-text of audio files (needs Project_02/requirements-transcribe.txt)."""
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from podcast_pipeline.transcription import (SpeechEngine, TranscriptionError,
                                            transcribe_file)
from podcast_summary import main

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("pocketsphinx")
pytestmark = pytest.mark.transcribe

COMMITTED_CLIP_SECONDS = 3.675  # soundfile.info("audio/speech.mp3").duration


def test_committed_clip_is_transcribed_with_a_spoken_word(
        committed_speech_mp3: Path, spoken_words: set[str]) -> None:
    """The 4-second MP3 in the repository comes back with words that were spoken."""
    transcript = transcribe_file(committed_speech_mp3)
    assert set(transcript.text.split()) & spoken_words, transcript.text
    assert transcript.engine.startswith("pocketsphinx 5.")
    assert transcript.model == "en-us"
    assert transcript.audio_seconds == pytest.approx(COMMITTED_CLIP_SECONDS, abs=0.1)
    assert 0 < transcript.compute_seconds < 60


def test_freshly_synthesised_mp3_is_transcribed_with_a_spoken_word(
        engine: SpeechEngine, synthesised_speech_mp3: Path,
        spoken_words: set[str]) -> None:
    """An MP3 that espeak-ng speaks and soundfile encodes during the test is understood."""
    transcript = transcribe_file(synthesised_speech_mp3, engine)
    assert set(transcript.text.split()) & spoken_words, transcript.text


def test_stereo_44khz_wav_is_mixed_down_and_resampled(
        engine: SpeechEngine, committed_speech_mp3: Path,
        spoken_words: set[str], tmp_path: Path) -> None:
    """Podcasts come as 44.1 kHz stereo: the engine still gets 16 kHz mono speech."""
    samples, sample_rate = soundfile.read(str(committed_speech_mp3), dtype="float32")
    assert sample_rate == 22050
    stereo = np.column_stack([resample_poly(samples, 2, 1), 0.5 * resample_poly(samples, 2, 1)])
    wav = tmp_path / "stereo.wav"
    soundfile.write(str(wav), stereo, 44100)

    transcript = transcribe_file(wav, engine)

    assert set(transcript.text.split()) & spoken_words, transcript.text
    assert transcript.audio_seconds == pytest.approx(len(samples) / 22050, abs=0.01)


def test_progress_reports_the_decoded_seconds(engine: SpeechEngine,
                                              committed_speech_mp3: Path) -> None:
    """The progress callback sees the decoded audio grow up to the clip's length."""
    seen: list[float] = []
    transcribe_file(committed_speech_mp3, engine, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(COMMITTED_CLIP_SECONDS, abs=0.1)


@pytest.mark.parametrize("content", [
    b"<!DOCTYPE html><html><body>Episode not found</body></html>",
    np.random.default_rng(8).integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
    b"",
], ids=["html-page", "random-bytes", "empty"])
def test_corrupt_audio_raises_transcription_error(engine: SpeechEngine,
                                                  tmp_path: Path, content: bytes) -> None:
    """A file that is not audio ends in one TranscriptionError naming the file."""
    corrupt = tmp_path / "episode.mp3"
    corrupt.write_bytes(content)
    with pytest.raises(TranscriptionError, match="episode.mp3: could not decode"):
        transcribe_file(corrupt, engine)


def test_missing_file_raises_transcription_error(engine: SpeechEngine,
                                                 tmp_path: Path) -> None:
    """A path with no file behind it is a TranscriptionError, not an OSError."""
    with pytest.raises(TranscriptionError, match="no such audio file"):
        transcribe_file(tmp_path / "gone.mp3", engine)


def test_engine_keeps_working_after_a_failed_file(
        engine: SpeechEngine, committed_speech_mp3: Path,
        spoken_words: set[str], tmp_path: Path) -> None:
    """One bad episode does not spoil the loaded engine for the next one."""
    truncated = tmp_path / "truncated.mp3"
    truncated.write_bytes(committed_speech_mp3.read_bytes()[:2_000] + b"\0" * 500)
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(TranscriptionError):
        transcribe_file(bad, engine)
    transcribe_file(truncated, engine)  # decodes what there is, whatever it says

    transcript = transcribe_file(committed_speech_mp3, engine)

    assert set(transcript.text.split()) & spoken_words, transcript.text


def test_cli_run_transcribes_downloaded_speech_and_records_corrupt_audio(
        serve_podcast, committed_speech_mp3: Path, spoken_words: set[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """End to end with the real engine: sync a feed whose newest episode is speech and
    whose older one is corrupt, transcribe, then find the episode by a spoken word."""
    url = serve_podcast([b"<html>gone</html>", committed_speech_mp3.read_bytes()])
    data_dir = tmp_path / "data"

    code = main(["--feed-url", url, "--data-dir", str(data_dir), "--transcribe"])

    out = capsys.readouterr().out
    assert code == 0
    assert "transcripts: 1 made" in out and out.endswith(", 1 failed\n")
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        conn.row_factory = sqlite3.Row
        speech, corrupt = conn.execute(
            "SELECT * FROM episodes ORDER BY published DESC").fetchall()
    heard = set(speech["transcript"].split()) & spoken_words
    assert heard, speech["transcript"]
    assert (speech["title"], speech["transcript_status"], speech["transcript_model"]) == \
        ("Episode 2", "done", "en-us")
    assert speech["transcript_engine"].startswith("pocketsphinx 5.")
    assert speech["transcript_audio_seconds"] == pytest.approx(COMMITTED_CLIP_SECONDS, abs=0.1)
    assert (corrupt["title"], corrupt["transcript_status"], corrupt["transcript"]) == \
        ("Episode 1", "failed", None)
    assert "could not decode" in corrupt["transcript_error"]

    assert main(["search", sorted(heard)[0], "--data-dir", str(data_dir)]) == 0
    assert "Episode 2" in capsys.readouterr().out
