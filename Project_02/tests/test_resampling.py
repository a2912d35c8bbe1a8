"""Chunked resampling gives the same samples as resampling the whole signal at once."""
import math

import numpy as np
import pytest
from scipy.signal import resample_poly

from podcast_pipeline.resampling import StreamResampler

CHUNK_SIZES = [1, 5_000, 7, 30_000, 2, 40_000, 23_000]


def _resample_in_chunks(signal: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Feed ``signal`` to a StreamResampler in uneven chunks and join the outputs."""
    resampler = StreamResampler(in_rate, out_rate)
    outputs, start = [], 0
    for size in CHUNK_SIZES:
        outputs.append(resampler.process(signal[start:start + size]))
        start += size
    outputs.append(resampler.process(signal[start:]))
    outputs.append(resampler.flush())
    return np.concatenate(outputs)


@pytest.mark.parametrize("in_rate", [44_100, 48_000, 22_050, 11_025, 8_000, 16_000])
def test_chunked_output_equals_whole_signal_resampling(in_rate: int) -> None:
    """Any chunking gives resample_poly's output on the whole signal, sample for sample."""
    signal = np.random.default_rng(in_rate).standard_normal(130_003)
    divisor = math.gcd(in_rate, 16_000)
    expected = (resample_poly(signal, 16_000 // divisor, in_rate // divisor)
                if in_rate != 16_000 else signal)

    actual = _resample_in_chunks(signal, in_rate, 16_000)

    assert len(actual) == len(expected) == math.ceil(len(signal) * 16_000 / in_rate)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


def test_a_tone_keeps_its_pitch() -> None:
    """A 440 Hz tone at 44.1 kHz is still strongest at 440 Hz after conversion to 16 kHz."""
    seconds = 2
    time_44k = np.arange(44_100 * seconds) / 44_100
    tone = np.sin(2 * np.pi * 440 * time_44k)

    converted = _resample_in_chunks(tone, 44_100, 16_000)

    spectrum = np.abs(np.fft.rfft(converted))
    peak_hz = np.argmax(spectrum) * 16_000 / len(converted)
    assert len(converted) == 16_000 * seconds
    assert peak_hz == pytest.approx(440, abs=1)


def test_input_shorter_than_the_filter_still_comes_out() -> None:
    """A few samples produce output only at flush, and the right number of them."""
    resampler = StreamResampler(48_000, 16_000)
    assert len(resampler.process(np.ones(9))) == 0
    assert len(resampler.flush()) == 3


@pytest.mark.parametrize("rates", [(0, 16_000), (44_100, -1)])
def test_non_positive_rates_are_refused(rates: tuple[int, int]) -> None:
    """A sample rate of zero or below is a programming error."""
    with pytest.raises(ValueError, match="must be positive"):
        StreamResampler(*rates)
