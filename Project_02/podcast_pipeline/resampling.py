"""Chunked sample-rate conversion that gives the same samples as converting the whole signal.

Speech engines want 16 kHz mono; podcasts come at 44.1 or 48 kHz and can last hours, so
the audio is converted chunk by chunk. Each chunk is converted together with ``pad``
samples of history and look-ahead (at least the filter's half length) and only the
middle is kept, so the output equals ``scipy.signal.resample_poly`` on the whole signal.
"""
import math

import numpy as np
from scipy.signal import resample_poly

# scipy.signal.resample_poly's default FIR filter spans this many samples (at the
# up-sampled rate) on each side of its centre, per unit of max(up, down).
_HALF_LENGTH_PER_RATE = 10


class StreamResampler:
    """Convert a stream of float samples from ``in_rate`` to ``out_rate`` in chunks.

    Feed chunks to :meth:`process` and call :meth:`flush` once at the end; the
    concatenated outputs equal ``resample_poly(whole_signal, up, down)``.

    Args:
        in_rate: sample rate of the input, in Hz.
        out_rate: wanted sample rate, in Hz.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} and {out_rate}")
        divisor = math.gcd(in_rate, out_rate)
        self.up = out_rate // divisor
        self.down = in_rate // divisor
        half_length_in_input = math.ceil(_HALF_LENGTH_PER_RATE * max(self.up, self.down) / self.up)
        # A multiple of `down`, so the kept outputs start on a whole output sample.
        self.pad = self.down * math.ceil((half_length_in_input + 1) / self.down)
        # `pad` samples of history (zeros before the start, as resample_poly assumes)
        # followed by the input not converted yet.
        self._buffer = np.zeros(self.pad, dtype=np.float64)

    def _convert(self, segment: np.ndarray, count: int) -> np.ndarray:
        """Resample ``segment`` and keep the ``count`` outputs that follow its history."""
        if self.up == self.down:
            return segment[self.pad:self.pad + count]
        start = self.pad * self.up // self.down
        return resample_poly(segment, self.up, self.down)[start:start + count]

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Take the next chunk of input; return every output sample that is now final."""
        self._buffer = np.concatenate([self._buffer, np.asarray(samples, dtype=np.float64)])
        ready = (len(self._buffer) - 2 * self.pad) // self.down * self.down
        if ready <= 0:
            return np.zeros(0, dtype=np.float64)
        segment = self._buffer[:self.pad + ready + self.pad]
        converted = self._convert(segment, ready * self.up // self.down)
        self._buffer = self._buffer[ready:]
        return converted

    def flush(self) -> np.ndarray:
        """Return the outputs of the input still held back; call once, at the end."""
        remaining = len(self._buffer) - self.pad
        segment = np.concatenate([self._buffer, np.zeros(self.pad)])
        self._buffer = self._buffer[len(self._buffer):]
        return self._convert(segment, -(-remaining * self.up // self.down))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Convert float samples in [-1, 1] to 16-bit PCM, clipping what lies outside."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)
