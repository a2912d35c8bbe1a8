"""Without the optional speech-to-text extra, transcription says how to install it."""
import sys
from pathlib import Path

import pytest

from podcast_pipeline.transcription import (TranscriptionUnavailableError, check_available,
                                            transcribe_file)


@pytest.fixture(name="extra_missing", params=["pocketsphinx", "soundfile"])
def fixture_extra_missing(request: pytest.FixtureRequest,
                          monkeypatch: pytest.MonkeyPatch) -> str:
    """Make one module of the extra unimportable (a None entry in sys.modules)."""
    monkeypatch.setitem(sys.modules, request.param, None)
    return request.param


@pytest.mark.usefixtures("extra_missing")
def test_check_available_names_the_install_command() -> None:
    """The error is one line that names a missing module and the pip command."""
    with pytest.raises(TranscriptionUnavailableError) as error:
        check_available()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("speech-to-text is not installed")
    assert "pocketsphinx" in message or "soundfile" in message
    assert "pip install -r Project_02/requirements-transcribe.txt" in message


@pytest.mark.usefixtures("extra_missing")
def test_transcribe_file_needs_the_extra(tmp_path: Path) -> None:
    """transcribe_file refuses before it looks at the audio file."""
    with pytest.raises(TranscriptionUnavailableError, match="requirements-transcribe.txt"):
        transcribe_file(tmp_path / "no-such-episode.mp3")
