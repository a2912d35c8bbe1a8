"""Fixtures shared by the Project_02 tests."""
import shutil
import subprocess
from pathlib import Path

import pytest

from podcast_pipeline.transcription import SpeechEngine, load_engine

AUDIO_DIR = Path(__file__).resolve().parent / "audio"

# --- speech-to-text (issue 8) ----------------------------------------------------------------
# audio/speech.mp3 is this sentence, made with the command in audio/README.md.
SPOKEN_SENTENCE = "We will talk about money, markets and the economy."


@pytest.fixture(name="spoken_words")
def fixture_spoken_words() -> set[str]:
    """The distinct lower-case words of the sentence spoken in the speech clips."""
    return set(SPOKEN_SENTENCE.lower().replace(",", "").rstrip(".").split())


@pytest.fixture(name="committed_speech_mp3")
def fixture_committed_speech_mp3() -> Path:
    """A 4-second MP3 of SPOKEN_SENTENCE kept in the repository (11 KB)."""
    return AUDIO_DIR / "speech.mp3"


@pytest.fixture(name="synthesised_speech_mp3")
def fixture_synthesised_speech_mp3(tmp_path: Path) -> Path:
    """SPOKEN_SENTENCE spoken now by espeak-ng and written as MP3 by soundfile."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    soundfile = pytest.importorskip("soundfile")
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-s", "150", "-w", str(wav),
                    SPOKEN_SENTENCE], check=True, capture_output=True)
    samples, sample_rate = soundfile.read(str(wav), dtype="float32")
    mp3 = tmp_path / "speech.mp3"
    soundfile.write(str(mp3), samples, sample_rate, format="MP3")
    return mp3


@pytest.fixture(name="engine", scope="session")
def fixture_engine() -> SpeechEngine:
    """One loaded PocketSphinx engine for the whole session (loading takes about 1 s)."""
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("soundfile")
    return load_engine()
