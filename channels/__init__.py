"""The ways residents reach the contact centre: web chat, browser voice, the phone (Twilio).

- :mod:`channels.webchat`: the widget, the demo page, the chat API over Server-Sent Events.
- :mod:`channels.voice`: the browser voice page and its WebSocket session.
- :mod:`channels.twilio`: phone calls (webhook with signature check, Media Streams, transfers).
- :mod:`channels.speech`: speech-to-text, text-to-speech, voice activity, audio codecs.

The top floor under ``eval``: channels drive :mod:`contact_center` (the conversation engine)
and may use every floor below it; nothing below imports ``channels`` except the app factory
(:mod:`contact_center.app`), which mounts them.
"""
