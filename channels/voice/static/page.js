/*!
 * The voice page (/voix): the microphone conversation of voice.js, shown like the chat widget
 * (the resident's words, the answer and its sources), with its state told in a status line
 * (listening, answering aloud, interrupted). The conversation is the chat's own: it is kept
 * under the widget's storage key, so « Continuer par écrit » opens the chat (widget.js, loaded
 * by the page) on the same conversation, and a conversation begun in writing goes on by voice.
 */
(function () {
  "use strict";

  var TENANT = "demo";
  var STORAGE_KEY = "cc-webchat:" + location.origin + ":" + TENANT;
  var TEXT = {
    micOn: "Activer le micro",
    micOff: "Couper le micro",
    you: "Vous",
    assistant: "Assistant",
    youLabel: "Votre message",
    assistantLabel: "Réponse de l'assistant",
    sourcesFound: "Sources trouvées",
    sourcesCited: "Sources",
    newWindow: " (nouvelle fenêtre)",
    connecting: "Connexion en cours… Autorisez l'accès au micro si votre navigateur le demande.",
    listening: "Micro activé : posez votre question, puis faites une pause.",
    searching: "Recherche dans les fiches d'information…",
    speaking: "L'assistant vous répond à voix haute. Parlez pour l'interrompre.",
    interrupted: "Réponse vocale interrompue : l'assistant vous écoute.",
    dropped: "Réponse interrompue.",
    stopped: "Micro coupé. La conversation est conservée : vous pouvez reprendre à voix haute ou par écrit.",
    agentAsked: "Vous avez demandé un agent : autorisez le micro, votre demande lui sera transmise.",
    handoff: "Un agent va reprendre la conversation par écrit : appuyez sur « Continuer par écrit ».",
    noMicrophone: "Le micro n'est pas accessible. Vérifiez l'autorisation de votre navigateur, ou continuez par écrit.",
  };

  var mic = document.getElementById("mic");
  var agent = document.getElementById("agent");
  var write = document.getElementById("write");
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var notice = document.getElementById("notice");
  var talk = null;
  var answer = null;
  // « Parler à un agent » before the micro is on: the call starts and asks for one at once.
  var agentAsked = false;

  var store = {
    get: function () {
      try {
        var kept = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
        return kept && typeof kept.id === "string" && typeof kept.token === "string" ? kept : null;
      } catch (e) {
        return null; // storage blocked: a new conversation starts
      }
    },
    set: function (id, token) {
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ id: id, token: token }));
      } catch (e) {
        /* see get() */
      }
    },
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function say(text) { status.textContent = text; }

  function message(kind, label, who, text) {
    var article = el("article", { class: "cc-msg cc-msg--" + kind, "aria-label": label });
    article.appendChild(el("p", { class: "cc-who", "aria-hidden": "true" }, who));
    var bubble = article.appendChild(el("div", { class: "cc-bubble" }, text));
    log.appendChild(article);
    article.scrollIntoView({ block: "nearest" });
    return { article: article, bubble: bubble };
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  var sourcesSeq = 0;
  function sourcesBox(sources, title) {
    var id = "sources-" + ++sourcesSeq;
    var box = el("div", { class: "cc-sources", role: "group", "aria-labelledby": id });
    box.appendChild(el("p", { class: "cc-sources-title", id: id }, title));
    var list = box.appendChild(el("ol"));
    sources.forEach(function (s) {
      var item = list.appendChild(el("li"));
      var label = "[" + s.n + "] " + (s.title || s.url || "");
      var href = s.url && safeUrl(s.url);
      if (!href) { item.textContent = label; return; }
      var link = item.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, label));
      link.appendChild(el("span", { class: "sr-only" }, TEXT.newWindow));
    });
    return box;
  }

  /** The answer being given: its text as it streams, then its sources. */
  function assistantMessage() {
    var shown = message("assistant", TEXT.assistantLabel, TEXT.assistant, "");
    shown.article.setAttribute("aria-busy", "true");
    var box = null;
    function setSources(sources, title) {
      if (box) box.remove();
      box = sources && sources.length ? shown.article.appendChild(sourcesBox(sources, title)) : null;
    }
    return {
      sources: function (sources) { setSources(sources, TEXT.sourcesFound); },
      token: function (text) { shown.bubble.textContent += text; },
      done: function (m) {
        shown.bubble.textContent = m.answer || shown.bubble.textContent;
        setSources(m.sources, TEXT.sourcesCited);
        shown.article.setAttribute("aria-busy", "false");
      },
      /** The resident spoke over it: the turn is dropped, what was shown stays. */
      interrupted: function () {
        if (!shown.bubble.textContent) shown.bubble.textContent = TEXT.dropped;
        shown.article.setAttribute("aria-busy", "false");
      },
    };
  }

  function onEvent(m) {
    if (m.type === "ready") {
      notice.textContent = m.notice;
      if (m.resident_token) store.set(m.conversation_id, m.resident_token);
      say(TEXT.listening);
      if (agentAsked && talk) { agentAsked = false; talk.askForAgent(); }
    } else if (m.type === "transcript") {
      message("user", TEXT.youLabel, TEXT.you, m.text);
      answer = assistantMessage();
      say(TEXT.searching);
    } else if (m.type === "sources" && answer) answer.sources(m.sources);
    else if (m.type === "answer_delta" && answer) answer.token(m.text);
    else if (m.type === "done" && answer) { answer.done(m); answer = null; }
    else if (m.type === "audio") say(TEXT.speaking);
    else if (m.type === "clear") say(TEXT.interrupted);
    else if (m.type === "barge_in" && answer) { answer.interrupted(); answer = null; }
    else if (m.type === "handoff") say(TEXT.handoff);
    else if (m.type === "error") say(m.message);
    else if (m.type === "closed" && m.reason) say(m.reason);
  }

  function startTalk() {
    mic.textContent = TEXT.micOff;
    mic.setAttribute("aria-pressed", "true");
    say(TEXT.connecting);
    var kept = store.get();
    talk = ContactCenterVoice.start({
      apiBase: location.origin,
      tenant: TENANT,
      conversationId: kept ? kept.id : null,
      residentToken: kept ? kept.token : null,
      onEvent: onEvent,
      onFailure: function () { stopTalk(TEXT.noMicrophone); },
    });
  }

  function stopTalk(why) {
    if (talk) talk.stop();
    talk = null;
    answer = null;
    mic.textContent = TEXT.micOn;
    mic.setAttribute("aria-pressed", "false");
    say(why);
  }

  mic.addEventListener("click", function () {
    if (talk) stopTalk(TEXT.stopped);
    else startTalk();
  });

  agent.addEventListener("click", function () {
    if (talk) { talk.askForAgent(); return; }
    agentAsked = true;
    say(TEXT.agentAsked);
    startTalk();
  });

  // The chat opens on the conversation kept above: the voice stops first (one channel at once).
  write.addEventListener("click", function () {
    if (talk) stopTalk(TEXT.stopped);
    if (window.ContactCenterWidget) window.ContactCenterWidget.open();
  });
})();
