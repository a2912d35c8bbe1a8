"""Offline speech-to-text of downloaded episodes with PocketSphinx (an optional extra).

The engine (``pocketsphinx``, whose wheel carries the US-English model) and the audio
decoder (``soundfile``, whose wheel carries libsndfile with MP3 support) are imported
only when a transcription is asked for, so the rest of the pipeline works without them.
Audio is decoded, mixed to mono and resampled to 16 kHz in chunks, so an hour-long
episode needs no more memory than a short one.
"""
from __future__ import annotations  # numpy is named in hints only: imported on first use

import importlib
import importlib.metadata
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from podcast_pipeline import PodcastError

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -r Project_02/requirements-transcribe.txt"
ENGINE_NAME = "pocketsphinx"
MODEL_NAME = "en-us"          # the acoustic model, dictionary and language model in the wheel
ENGINE_SAMPLE_RATE = 16_000   # what the en-us acoustic model was trained on
CHUNK_SECONDS = 30            # audio decoded at a time
# PocketSphinx's search memory grows with the utterance; music or talk without a pause
# is cut into utterances of at most this length.
MAX_UTTERANCE_SECONDS = 60

ProgressCallback = Callable[[float], None]


class TranscriptionUnavailableError(PodcastError):
    """The optional speech-to-text extra is not installed."""


class TranscriptionError(PodcastError):
    """An audio file could not be decoded or transcribed."""


@dataclass(frozen=True)
class Transcript:
    """The text of one audio file and how it was made."""

    text: str
    engine: str
    model: str
    audio_seconds: float
    compute_seconds: float


def _import_extra() -> tuple[ModuleType, ModuleType]:
    """Import and return the ``soundfile`` and ``pocketsphinx`` modules.

    Raises:
        TranscriptionUnavailableError: either is missing (or libsndfile cannot load).
    """
    try:
        soundfile = importlib.import_module("soundfile")
        pocketsphinx = importlib.import_module("pocketsphinx")
    except (ImportError, OSError) as err:  # OSError: soundfile found no libsndfile
        raise TranscriptionUnavailableError(
            f"speech-to-text is not installed ({err}); install it with: {INSTALL_HINT}") from err
    return soundfile, pocketsphinx


def check_available() -> None:
    """Raise ``TranscriptionUnavailableError`` unless the optional extra is installed."""
    _import_extra()


def _resampling() -> ModuleType:
    """The resampling module, imported on first use: it loads numpy and scipy.signal
    (~0.6 s), which every other command (fetch, list, search...) of this program does
    without."""
    return importlib.import_module("podcast_pipeline.resampling")


def _decode_pcm(soundfile: ModuleType, path: Path,
                progress: ProgressCallback | None) -> Iterator[np.ndarray]:
    """Yield the audio of ``path`` as 16 kHz mono 16-bit chunks of about CHUNK_SECONDS.

    Raises:
        TranscriptionError: the file is missing or is not audio libsndfile can decode.
    """
    if not path.is_file():
        raise TranscriptionError(f"{path}: no such audio file")
    try:
        with soundfile.SoundFile(str(path)) as audio:
            resampling = _resampling()
            resampler = resampling.StreamResampler(audio.samplerate, ENGINE_SAMPLE_RATE)
            decoded_frames = 0
            while True:
                block = audio.read(CHUNK_SECONDS * audio.samplerate, dtype="float32",
                                   always_2d=True)
                if len(block) == 0:
                    break
                decoded_frames += len(block)
                yield resampling.to_int16(resampler.process(block.mean(axis=1)))
                if progress is not None:
                    progress(decoded_frames / audio.samplerate)
            yield resampling.to_int16(resampler.flush())
    except soundfile.SoundFileError as err:
        logger.debug("libsndfile could not decode %s: %s", path, err)
        raise TranscriptionError(
            f"{path}: could not decode the audio (not a complete MP3/WAV/FLAC/OGG file?)"
        ) from err


@dataclass(frozen=True)
class SpeechEngine:
    """A loaded PocketSphinx decoder, ready to transcribe one file after another."""

    name: str                  # e.g. "pocketsphinx 5.0.4"
    model: str
    decoder: Any               # pocketsphinx.Decoder
    endpointer_type: type      # pocketsphinx.Endpointer
    soundfile: ModuleType


def load_engine() -> SpeechEngine:
    """Load the speech-to-text engine and its model (about a second).

    Raises:
        TranscriptionUnavailableError: the optional extra is not installed.
    """
    soundfile, pocketsphinx = _import_extra()
    return SpeechEngine(
        name=f"{ENGINE_NAME} {importlib.metadata.version(ENGINE_NAME)}",
        model=MODEL_NAME,
        decoder=pocketsphinx.Decoder(samprate=ENGINE_SAMPLE_RATE, loglevel="FATAL"),
        endpointer_type=pocketsphinx.Endpointer,
        soundfile=soundfile)


class _Utterances:
    """Feeds speech to the decoder one utterance at a time and collects their text."""

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self.length_bytes: int | None = None   # None while no utterance is open

    def feed(self, speech: bytes) -> None:
        """Decode ``speech``, opening an utterance if none is open."""
        if self.length_bytes is None:
            self._decoder.start_utt()
            self.length_bytes = 0
        self._decoder.process_raw(speech, False, False)
        self.length_bytes += len(speech)

    def close(self) -> list[str]:
        """Close the open utterance, if any; return its text as a list of 0 or 1 items."""
        if self.length_bytes is None:
            return []
        self.length_bytes = None
        self._decoder.end_utt()
        hypothesis = self._decoder.hyp()
        return [hypothesis.hypstr] if hypothesis is not None and hypothesis.hypstr else []


def _recognise(engine: SpeechEngine, pcm_chunks: Iterator[np.ndarray]) -> Iterator[str]:
    """Split 16 kHz 16-bit audio into utterances at pauses and yield each one's text."""
    endpointer = engine.endpointer_type(sample_rate=ENGINE_SAMPLE_RATE)
    frame_bytes = endpointer.frame_bytes
    max_utterance_bytes = MAX_UTTERANCE_SECONDS * ENGINE_SAMPLE_RATE * 2
    utterances = _Utterances(engine.decoder)
    pending = b""
    try:
        for chunk in pcm_chunks:
            pending += chunk.tobytes()
            whole_frames = len(pending) // frame_bytes * frame_bytes
            for offset in range(0, whole_frames, frame_bytes):
                speech = endpointer.process(pending[offset:offset + frame_bytes])
                if speech:
                    utterances.feed(speech)
                    if not endpointer.in_speech or utterances.length_bytes >= max_utterance_bytes:
                        yield from utterances.close()
            pending = pending[whole_frames:]
        if endpointer.in_speech and pending:
            speech = endpointer.end_stream(pending)
            if speech:
                utterances.feed(speech)
        yield from utterances.close()
    finally:  # after an error too, so the decoder is ready for the next file
        utterances.close()


def transcribe_file(path: Path, engine: SpeechEngine | None = None,
                    progress: ProgressCallback | None = None) -> Transcript:
    """Transcribe one audio file.

    Args:
        path: an audio file (MP3, WAV, FLAC, OGG, ...).
        engine: a loaded engine to reuse across files; loaded here when None.
        progress: called after each chunk with the seconds of audio decoded so far.

    Returns:
        The transcript, with the audio length and the compute time it took.

    Raises:
        TranscriptionUnavailableError: the optional extra is not installed.
        TranscriptionError: the file cannot be decoded or holds no audio.
    """
    engine = engine or load_engine()
    started = time.perf_counter()
    pcm_samples = 0

    def counted(chunks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        nonlocal pcm_samples
        for chunk in chunks:
            pcm_samples += len(chunk)
            yield chunk

    try:
        texts = list(_recognise(engine, counted(_decode_pcm(engine.soundfile, path, progress))))
    except (RuntimeError, ValueError, IndexError) as err:  # raised by the engine
        raise TranscriptionError(f"{path}: speech recognition failed: {err}") from err
    if pcm_samples == 0:
        raise TranscriptionError(f"{path}: the file holds no audio")
    return Transcript(text=" ".join(texts), engine=engine.name, model=engine.model,
                      audio_seconds=pcm_samples / ENGINE_SAMPLE_RATE,
                      compute_seconds=time.perf_counter() - started)
