"""Voice channel in the browser, and the spoken conversation shared with the phone.

``session.py``: :class:`VoiceSession`, one spoken conversation over the conversation engine
(listen, transcribe, answer, speak sentence by sentence, holding phrase, barge-in, apology and
handoff on failure). ``routes.py``: the browser's WebSocket (``/api/v1/voice``) and the voice
page (``/voix``); the widget's voice mode lives in ``channels/webchat/static/voice.js``.
"""
