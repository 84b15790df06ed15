"""Phone channel: Twilio Programmable Voice with Media Streams.

``webhook.py`` answers the incoming-call webhook (signature checked) with TwiML that connects
the call to our WebSocket; ``media_stream.py`` is the Media Streams protocol, pure and testable
with recorded messages; ``call.py`` adapts one call's stream to a
:class:`channels.voice.session.VoiceSession`; ``transfer.py`` hands a call to a service's
number through Twilio's REST API. The local stand-ins (REST API, a Media Streams client) that
the tests and the latency benchmark use are in :mod:`channels.testing.twilio_voice`.
"""
