"""Audio formats of the voice channels, with numpy only.

Inside the contact centre audio is 16-bit signed little-endian mono PCM (``int16`` arrays):
16 kHz towards speech-to-text, the synthesiser's own rate (22,050 Hz for Piper and espeak-ng)
out of text-to-speech. At the edges: G.711 μ-law at 8 kHz for Twilio Media Streams, PCM16 at
16 kHz from the browser's microphone. :func:`resample` is a band-limited polyphase resampler
(windowed-sinc low-pass, then linear interpolation on the filtered signal), good enough for
speech between 8, 16, 22.05 and 48 kHz.
"""

from __future__ import annotations

import io
import wave
from math import gcd
from pathlib import Path

import numpy as np

#: Sample rate that speech-to-text and voice-activity detection expect.
STT_RATE = 16_000
#: Twilio Media Streams: μ-law, 8 kHz, mono.
TELEPHONY_RATE = 8_000

_BIAS = 0x84
_CLIP = 32635


def _ulaw_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ULAW_TO_PCM = _ulaw_decode_table()


def ulaw_to_pcm16(data: bytes) -> np.ndarray:
    """Decode G.711 μ-law bytes into int16 samples."""
    return _ULAW_TO_PCM[np.frombuffer(data, dtype=np.uint8)]


def pcm16_to_ulaw(samples: np.ndarray) -> bytes:
    """Encode int16 samples as G.711 μ-law bytes (ITU-T G.711, as Twilio expects)."""
    pcm = samples.astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude >> 7 | 1)).astype(np.int32)
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def _lowpass(samples: np.ndarray, cutoff: float, taps: int = 63) -> np.ndarray:
    """Windowed-sinc low-pass; ``cutoff`` as a fraction of the sample rate (0..0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    kernel /= kernel.sum()
    return np.convolve(samples, kernel, mode="same")


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample int16 (or float) mono audio; returns the same dtype."""
    if source_rate == target_rate or samples.size == 0:
        return samples
    dtype = samples.dtype
    signal = samples.astype(np.float64)
    ratio = target_rate / source_rate
    if ratio < 1:  # anti-aliasing before decimation
        signal = _lowpass(signal, 0.5 * ratio * 0.9)
    divisor = gcd(source_rate, target_rate)
    count = int(round(samples.size * (target_rate // divisor) / (source_rate // divisor)))
    positions = np.arange(count) / ratio
    out = np.interp(positions, np.arange(signal.size), signal)
    if np.issubdtype(dtype, np.integer):
        return np.clip(np.round(out), -32768, 32767).astype(dtype)
    return out.astype(dtype)


def pcm16_to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1] (what Whisper and Silero VAD take)."""
    return samples.astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] as int16."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """A mono 16-bit WAV file in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples (int16, mono) and sample rate of a 16-bit WAV file in memory."""
    with wave.open(io.BytesIO(data), "rb") as source:
        frames = source.readframes(source.getnframes())
        channels, rate = source.getnchannels(), source.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def load_audio(path: Path, sample_rate: int = STT_RATE) -> np.ndarray:
    """Any audio file (WAV, Ogg/Opus ...) as int16 mono at ``sample_rate``.

    Decodes with PyAV (a faster-whisper dependency) for compressed formats.
    """
    if Path(path).suffix.lower() == ".wav":
        samples, rate = read_wav(Path(path).read_bytes())
        return resample(samples, rate, sample_rate)
    from faster_whisper.audio import decode_audio

    return float_to_pcm16(decode_audio(str(path), sampling_rate=sample_rate))


def frames(samples: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive slices of ``size`` samples (the last one may be shorter)."""
    return [samples[i : i + size] for i in range(0, samples.size, size)]
