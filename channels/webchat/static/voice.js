/*!
 * Voice mode of the citizen contact centre (browser microphone), loaded by widget.js or by
 * the voice page (/voix). No dependency, no build step.
 *
 *   var talk = ContactCenterVoice.start({ apiBase: "", tenant: "demo", onEvent: fn,
 *                                         onFailure: fn });
 *   talk.stop();
 *
 * To go on with a conversation, pass its ``conversationId`` and ``residentToken`` (the
 * resident's credential, given once by ``ready`` when the server opens a conversation).
 *
 * The microphone is captured at the device rate, downsampled to 16 kHz mono PCM16 and streamed
 * over the WebSocket /api/v1/voice; the server finds the end of each turn (a pause), sends
 * the transcript, the answer (text, sources) and its speech (PCM16, played as it arrives, each
 * chunk acknowledged with its mark). A "clear" from the server (the resident spoke over the
 * answer: barge-in) stops playback at once. Echo cancellation keeps our own voice out of the
 * microphone.
 */
(function () {
  "use strict";
  if (window.ContactCenterVoice) return;

  var TARGET_RATE = 16000;
  var WORKLET =
    "class Tap extends AudioWorkletProcessor { process(inputs) {" +
    " if (inputs[0] && inputs[0][0]) this.port.postMessage(inputs[0][0].slice(0)); return true; } }" +
    " registerProcessor('cc-tap', Tap);";

  function wsUrl(apiBase) {
    var base = new URL(apiBase || location.origin, location.href);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    return base.origin + "/api/v1/voice";
  }

  /** Float32 samples at `rate` -> Int16 at 16 kHz (averaging: a cheap low-pass). */
  function downsample(samples, rate) {
    var ratio = rate / TARGET_RATE;
    var out = new Int16Array(Math.floor(samples.length / ratio));
    for (var i = 0; i < out.length; i++) {
      var start = Math.floor(i * ratio), end = Math.floor((i + 1) * ratio), sum = 0;
      for (var j = start; j < end; j++) sum += samples[j];
      var v = sum / Math.max(1, end - start);
      out[i] = Math.max(-1, Math.min(1, v)) * 0x7fff;
    }
    return out;
  }

  function Conversation(options) {
    this.options = options;
    this.onEvent = options.onEvent || function () {};
    this.playing = [];
    this.playAt = 0;
  }

  Conversation.prototype.start = async function () {
    var self = this;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
    });
    this.context = new AudioContext();
    var module = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
    await this.context.audioWorklet.addModule(module);
    this.socket = new WebSocket(wsUrl(this.options.apiBase));
    this.socket.binaryType = "arraybuffer";
    this.socket.onopen = function () {
      self.socket.send(JSON.stringify({
        type: "start",
        tenant_id: self.options.tenant,
        conversation_id: self.options.conversationId || null,
        resident_token: self.options.residentToken || null,
        sample_rate: TARGET_RATE,
      }));
      var source = self.context.createMediaStreamSource(self.stream);
      self.tap = new AudioWorkletNode(self.context, "cc-tap");
      self.tap.port.onmessage = function (event) {
        if (self.socket.readyState === WebSocket.OPEN) {
          self.socket.send(downsample(event.data, self.context.sampleRate).buffer);
        }
      };
      source.connect(self.tap);
    };
    this.socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "audio") self.play(message);
      else if (message.type === "clear") self.clear();
      self.onEvent(message);
    };
    this.socket.onclose = function (event) {
      // A refusal (bad frame, page not allowed...) comes with a French reason.
      self.onEvent({ type: "closed", code: event.code, reason: event.reason || "" });
    };
    return this;
  };

  Conversation.prototype.play = function (message) {
    var self = this;
    var bytes = Uint8Array.from(atob(message.data), function (c) { return c.charCodeAt(0); });
    var pcm = new Int16Array(bytes.buffer);
    var buffer = this.context.createBuffer(1, pcm.length, message.sample_rate);
    var channel = buffer.getChannelData(0);
    for (var i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 0x8000;
    var node = this.context.createBufferSource();
    node.buffer = buffer;
    node.connect(this.context.destination);
    this.playAt = Math.max(this.playAt, this.context.currentTime);
    node.start(this.playAt);
    this.playAt += buffer.duration;
    this.playing.push(node);
    node.onended = function () {
      self.playing = self.playing.filter(function (n) { return n !== node; });
      if (self.socket.readyState === WebSocket.OPEN && !node.cleared) {
        self.socket.send(JSON.stringify({ type: "played", mark: message.mark }));
      }
    };
  };

  /** Barge-in: stop speaking now. */
  Conversation.prototype.clear = function () {
    this.playing.forEach(function (node) { node.cleared = true; try { node.stop(); } catch (e) {} });
    this.playing = [];
    this.playAt = 0;
  };

  Conversation.prototype.askForAgent = function () {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "agent" }));
    }
  };

  Conversation.prototype.stop = function () {
    this.clear();
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "stop" }));
      this.socket.close();
    }
    if (this.stream) this.stream.getTracks().forEach(function (t) { t.stop(); });
    if (this.context) this.context.close();
  };

  function microphoneIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3zM5 11a7 7 0 0 0 14 0M12 18v3M8 21h8");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  /**
   * Widget voice mode: a microphone button next to the text field. The transcript appears as
   * the resident's message, the answer streams into an assistant message with its sources.
   */
  function attachToWidget(hooks) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "cc-mic";
    button.setAttribute("aria-pressed", "false");
    // Named in French for screen readers; the drawn microphone is decoration (an emoji would be
    // read in the reader's own words, or drawn as a blank box where no emoji font is installed).
    button.setAttribute("aria-label", "Parler à l'assistant (micro)");
    button.title = "Parler à l'assistant (micro)";
    button.appendChild(microphoneIcon());
    var talk = null;
    var answer = null;
    button.addEventListener("click", async function () {
      if (talk) {
        talk.stop();
        talk = null;
        button.setAttribute("aria-pressed", "false");
        return;
      }
      button.setAttribute("aria-pressed", "true");
      var kept = hooks.conversation();
      talk = new Conversation({
        apiBase: hooks.apiBase,
        tenant: hooks.tenant,
        conversationId: kept ? kept.id : null,
        residentToken: kept ? kept.token : null,
        onEvent: function (m) {
          if (m.type === "ready" && m.resident_token) hooks.adopt(m.conversation_id, m.resident_token);
          else if (m.type === "transcript") {
            hooks.userMessage(m.text);
            answer = hooks.assistantMessage();
          } else if (m.type === "sources" && answer) answer.sources(m.sources);
          else if (m.type === "answer_delta" && answer) answer.token(m.text);
          else if (m.type === "done" && answer && answer.done) answer.done(m);
        },
      });
      try {
        await talk.start();
      } catch (error) {
        talk = null;
        button.setAttribute("aria-pressed", "false");
      }
    });
    hooks.inputRow.appendChild(button);
  }

  window.ContactCenterVoice = {
    start: function (options) {
      var talk = new Conversation(options);
      // No microphone (refused, absent): the caller is told, rather than an unhandled error.
      talk.start().catch(function (error) {
        if (options.onFailure) options.onFailure(error);
      });
      return talk;
    },
    attachToWidget: attachToWidget,
  };
})();
