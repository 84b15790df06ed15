"""Shipped test support of the voice channels: fakes, contract mixins and Twilio stand-ins.

* ``fakes.py``: :class:`~channels.testing.fakes.FakeTranscriber`,
  :class:`~channels.testing.fakes.FakeSynthesizer` and
  :class:`~channels.testing.fakes.FakeCallControl`, deterministic and without models.
* ``contracts.py``: what every speech recogniser, speech synthesiser and call control must do,
  as pytest mixins a town runs against its own implementations from the installed package.
* ``twilio_voice.py``: Twilio's REST API and its side of a Media Streams call, played locally.
"""
