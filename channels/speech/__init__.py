"""Speech for the voice channels: codecs, voice activity, speech-to-text, text-to-speech.

* ``audio.py``: μ-law/PCM16 conversions and resampling (numpy only).
* ``vad.py``: :class:`~channels.speech.vad.Endpointer` over Silero VAD (bundled with
  faster-whisper) or an energy threshold: speech start (barge-in) and end of turn.
* ``stt.py``: the :class:`~channels.speech.stt.SpeechRecognizer` port,
  :class:`~channels.speech.stt.WhisperRecognizer` (faster-whisper, Whisper base assembled from
  its packages, int8, French, biased toward ``vocabulary.py``).
* ``tts.py``: the :class:`~channels.speech.tts.SpeechSynthesizer` port, Piper (configured
  voice) and espeak-ng (French fallback).
* ``french_speech.py``: written answers made speakable (numbers, dates, amounts, times, phone
  numbers, abbreviations) and the sentence chunker that lets speech start early.
* ``stack.py``: the deployment's stack built from ``CC_SPEECH__*``, with fixed phrases cached.

The fakes (scripted transcripts, a tone for speech) and the contracts of both ports ship in
:mod:`channels.testing`.
"""
