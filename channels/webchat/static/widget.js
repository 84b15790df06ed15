/*!
 * Web chat widget of the citizen contact centre.
 *
 * Embedding (no build step, no dependency, no request other than to the API):
 *
 *   <script src="https://town.example/widget.js" data-tenant="demo" defer></script>
 *
 * Attributes of the script tag:
 *   data-tenant     commune id (required)
 *   data-api-base   where the API lives (default: the origin this script was loaded from)
 *   data-open       "true" opens the panel when the page loads
 *   data-title      panel title (default: "Assistant de la commune")
 *   data-max-chars  size shown by the character counter (default 1000; the API has the last word)
 *
 * Any element of the host page with a `data-cc-open` attribute opens the panel when clicked;
 * scripts can call `window.ContactCenterWidget.open()` and `.close()`.
 *
 * Everything lives in an open Shadow DOM, so the host site's CSS does not reach the widget
 * and the widget's CSS does not reach the host site.
 */
(function () {
  "use strict";

  if (window.ContactCenterWidget) return; // embedded twice: keep the first one

  var script =
    document.currentScript || document.querySelector("script[data-tenant][src*='widget']");
  if (!script) return;

  var config = {
    tenant: script.dataset.tenant,
    apiBase: (script.dataset.apiBase || new URL(script.src, location.href).origin).replace(
      /\/+$/,
      ""
    ),
    openOnLoad: script.dataset.open === "true",
    title: script.dataset.title || "Assistant de la commune",
    maxChars: parseInt(script.dataset.maxChars, 10) || 1000,
  };
  if (!config.tenant) {
    console.error("[widget] Attribut data-tenant manquant sur la balise <script> : widget désactivé.");
    return;
  }

  /** How often the page says that the resident types, and how long « Un agent écrit… » stays
   *  after the agent's last keystroke reached the page. */
  var TYPING_EVERY_MS = 2000;
  var TYPING_SHOWN_MS = 6000;

  var TEXT = {
    agentTyping: "Un agent écrit…",
    launcher: "Une question ? Écrivez-nous",
    close: "Fermer l'assistant",
    newConversation: "Nouvelle conversation",
    loading: "Chargement de la conversation…",
    inputLabel: "Votre question",
    hint: "Entrée pour envoyer, Maj + Entrée pour aller à la ligne.",
    send: "Envoyer",
    you: "Vous",
    assistant: "Assistant",
    youLabel: "Votre message",
    assistantLabel: "Réponse de l'assistant",
    empty: "Bonjour ! Posez votre question sur vos démarches ou sur les services de la commune.",
    privacy: "N'indiquez pas de données sensibles (santé, coordonnées bancaires, numéro de sécurité sociale).",
    searching: "Recherche dans les fiches d'information…",
    writing: "L'assistant rédige sa réponse… Cela peut prendre une vingtaine de secondes.",
    received: "Réponse reçue.",
    sourcesFound: "Sources trouvées",
    sourcesCited: "Sources",
    newWindow: " (nouvelle fenêtre)",
    emptyMessage: "Votre message est vide. Écrivez votre question avant de l'envoyer.",
    tooLong: function (n) {
      return "Votre message est trop long (au maximum " + n + " caractères). Pouvez-vous le raccourcir ?";
    },
    counter: function (n, max) {
      return n + " / " + max + " caractères" + (n > max ? " : message trop long" : "");
    },
    rateLimited: "Vous avez envoyé beaucoup de messages en peu de temps. Merci de patienter avant de réessayer.",
    unavailable: "Le service est momentanément indisponible. Vérifiez votre connexion puis réessayez dans quelques instants.",
    refused: "Votre message n'a pas pu être envoyé. Merci de réessayer.",
    interrupted: "La réponse a été interrompue. Votre question est enregistrée : vous pouvez la reformuler ou réessayer dans quelques instants.",
    retry: "Réessayer",
    started: "Nouvelle conversation commencée.",
    agent: "Agent de la mairie",
    agentLabel: "Message de l'agent de la mairie",
    forwarded: "Message transmis à l'agent.",
    exchangeEnded: "L'échange avec l'agent est terminé.",
    ratingLegend: "Comment évaluez-vous cet échange avec l'agent ?",
    ratingChoices: [
      "1 – Très insatisfait",
      "2 – Insatisfait",
      "3 – Moyennement satisfait",
      "4 – Satisfait",
      "5 – Très satisfait",
    ],
    ratingSend: "Envoyer mon avis",
    ratingMissing: "Choisissez une note avant d'envoyer votre avis.",
    ratingThanks: "Merci pour votre avis.",
    ratingAsked: "L'échange est terminé. Vous pouvez donner votre avis dans la conversation.",
    askAgent: "Parler à un agent",
    askAgentMessage: "Je souhaite parler à un agent de la mairie.",
    feedbackLegend: "Cette réponse vous a-t-elle aidé ?",
    feedbackUseful: "Réponse utile",
    feedbackNotUseful: "Réponse pas utile",
    feedbackReason: "Qu'est-ce qui ne va pas ? (facultatif)",
    feedbackNoReason: "Choisir un motif",
    // The reasons of contact_center/kb_admin/answer_feedback.py (REASONS), in the same order.
    feedbackReasons: [
      ["inaccurate", "Réponse inexacte"],
      ["incomplete", "Réponse incomplète"],
      ["hallucination", "Information inventée"],
      ["incomplete_sources", "Sources incomplètes"],
      ["obsolete_sources", "Sources obsolètes"],
      ["wrong_format", "Mauvais format"],
      ["vocabulary", "Vocabulaire inadapté"],
      ["misunderstood", "Question mal comprise"],
    ],
    feedbackComment: "Commentaire (facultatif, sans données personnelles)",
    feedbackSend: "Envoyer mon avis",
    feedbackThanks: "Merci pour votre avis : il aide la mairie à améliorer ses réponses.",
  };

  // ------------------------------------------------------------------ styles

  var CSS = [
    ":host { all: initial; }",
    ".cc { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;",
    "  font-size: medium; line-height: 1.5; color: #161616; }",
    ".cc *, .cc *::before, .cc *::after { box-sizing: border-box; }",
    ".cc button, .cc textarea { font: inherit; }",
    ".cc :focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }",
    ".cc-sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;",
    "  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",

    /* launcher */
    ".cc-launcher { position: fixed; right: 1.25em; bottom: 1.25em; z-index: 2147483000;",
    "  display: inline-flex; align-items: center; gap: .5em; padding: .75em 1.25em;",
    "  border: 2px solid #fff; border-radius: 2em; background: #000091; color: #fff;",
    "  font-weight: 600; cursor: pointer; box-shadow: 0 .25em 1em rgba(0,0,40,.3); }",
    ".cc-launcher:hover { background: #1212ff; }",
    ".cc-launcher svg { width: 1.25em; height: 1.25em; flex: none; }",

    /* panel */
    ".cc-panel { position: fixed; right: 1.25em; bottom: 5.5em; z-index: 2147483001;",
    "  display: flex; flex-direction: column; width: min(30em, calc(100vw - 2.5em));",
    "  height: min(44em, calc(100vh - 7.5em)); background: #fff; border: 1px solid #ddd;",
    "  border-radius: .75em; box-shadow: 0 .5em 2em rgba(0,0,40,.25); overflow: hidden; }",
    ".cc-panel[hidden] { display: none; }",
    ".cc-header { display: flex; align-items: center; gap: .375em; padding: .625em .625em .625em 1em;",
    "  background: #000091; color: #fff; }",
    ".cc-title { flex: 1; margin: 0; font-size: 1em; font-weight: 700; line-height: 1.3; }",
    ".cc-header button { border: 1px solid rgba(255,255,255,.7); background: transparent; color: #fff;",
    "  border-radius: .375em; padding: .3125em .625em; font-size: .8125em; cursor: pointer; white-space: nowrap; }",
    ".cc-header button:hover { background: rgba(255,255,255,.15); }",
    ".cc-header :focus-visible { outline-color: #fff; }",
    ".cc-close { display: inline-flex; align-items: center; justify-content: center; }",
    ".cc-close svg { width: 1.125em; height: 1.125em; }",
    ".cc-notice { margin: 0; padding: .625em 1em; font-size: .8125em; background: #e8edff;",
    "  border-bottom: 1px solid #cacafb; border-left: .3125em solid #000091; }",

    /* conversation */
    ".cc-log { flex: 1 1 auto; min-height: 6em; overflow-y: auto; padding: 1em; display: flex; flex-direction: column; gap: .875em;",
    "  background: #fff; overscroll-behavior: contain; }",
    ".cc-intro { margin: auto 0 0; color: #3a3a3a; font-size: .9375em; }",
    ".cc-intro p { margin: 0 0 .5em; }",
    ".cc-msg { max-width: 90%; }",
    ".cc-msg--user { align-self: flex-end; }",
    ".cc-msg--assistant { align-self: flex-start; }",
    ".cc-who { margin: 0 0 .1875em; font-size: .75em; font-weight: 600; color: #3a3a3a; }",
    ".cc-msg--user .cc-who { text-align: right; }",
    ".cc-bubble { padding: .625em .875em; border-radius: .875em; overflow-wrap: anywhere; }",
    ".cc-msg--user .cc-bubble { background: #000091; color: #fff; border-bottom-right-radius: .25em;",
    "  white-space: pre-wrap; }",
    ".cc-msg--assistant .cc-bubble { background: #f3f3f6; border-bottom-left-radius: .25em; }",
    ".cc-bubble p, .cc-bubble ul, .cc-bubble ol { margin: 0 0 .5em; }",
    ".cc-bubble > :last-child { margin-bottom: 0; }",
    ".cc-bubble ul, .cc-bubble ol { padding-left: 1.25em; }",
    ".cc-bubble a { color: #000091; text-underline-offset: .15em; }",
    ".cc-cite { font-size: .8125em; vertical-align: super; line-height: 0; text-decoration: none;",
    "  font-weight: 600; padding: 0 .0625em; }",
    ".cc-cite:hover { text-decoration: underline; }",
    ".cc-msg--error .cc-bubble { background: #ffe9e9; color: #ce0500; }",
    ".cc-msg--abstained .cc-bubble { border-left: .25em solid #b34000; }",
    ".cc-msg--agent { align-self: flex-start; }",
    ".cc-msg--agent .cc-bubble { background: #e3fdeb; border: 1px solid #18753c; border-bottom-left-radius: .25em;",
    "  white-space: pre-wrap; }",
    ".cc-msg--agent .cc-who { color: #18753c; }",
    ".cc-event { align-self: center; margin: 0; max-width: 95%; padding: .25em .75em; border-radius: 1em;",
    "  background: #eee; color: #3a3a3a; font-size: .8125em; text-align: center; }",
    ".cc-rating { margin: 0; padding: .625em .875em; border: 1px solid #cacafb; border-radius: .5em; background: #f5f5fe; }",
    ".cc-rating legend { padding: 0 .25em; font-weight: 700; font-size: .9375em; }",
    ".cc-rating label { display: flex; align-items: center; gap: .5em; margin: .25em 0; font-size: .9375em; cursor: pointer; }",
    ".cc-rating input { width: 1.125em; height: 1.125em; margin: 0; accent-color: #000091; }",
    ".cc-rating .cc-alert { margin: .5em 0 0; }",
    ".cc-rating .cc-retry { margin-top: .5em; }",

    /* typing dots */
    ".cc-dots { display: inline-flex; gap: .25em; padding: .25em 0; }",
    ".cc-dots span { width: .5em; height: .5em; border-radius: 50%; background: #6a6af4;",
    "  animation: cc-blink 1.2s infinite ease-in-out; }",
    ".cc-dots span:nth-child(2) { animation-delay: .2s; }",
    ".cc-dots span:nth-child(3) { animation-delay: .4s; }",
    "@keyframes cc-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }",
    "@media (prefers-reduced-motion: reduce) { .cc-dots span { animation: none; opacity: .6; } }",

    /* sources */
    ".cc-sources { margin-top: .5em; padding: .5em .75em; border: 1px solid #ddd; border-radius: .5em;",
    "  background: #fff; font-size: .875em; }",
    ".cc-sources-title { margin: 0 0 .25em; font-weight: 700; font-size: .9286em; color: #3a3a3a; }",
    ".cc-sources ol { list-style: none; margin: 0; padding: 0; }",
    ".cc-sources li { margin: .25em 0; }",
    ".cc-sources a { color: #000091; font-weight: 600; text-underline-offset: .15em; }",
    ".cc-sources a svg { width: .8em; height: .8em; margin-left: .2em; vertical-align: baseline; }",
    ".cc-heading { display: block; color: #3a3a3a; font-size: .9286em; }",
    ".cc-attrib { margin: .375em 0 0; color: #3a3a3a; font-size: .8571em; }",

    /* status and form */
    ".cc-status { margin: 0; padding: 0 1em; min-height: 0; font-size: .8125em; color: #3a3a3a; }",
    ".cc-status:not(:empty) { padding: .375em 1em; border-top: 1px solid #eee; }",
    ".cc-typing { margin: 0; padding: 0 1em; font-size: .8125em; font-style: italic; color: #3a3a3a; }",
    ".cc-form { padding: .625em 1em .75em; border-top: 1px solid #ddd; background: #fff; }",
    ".cc-alert { margin: 0 0 .5em; padding: .5em .75em; border-radius: .375em; background: #ffe9e9;",
    "  color: #ce0500; font-size: .875em; border-left: .25em solid #ce0500; }",
    ".cc-alert:empty { display: none; }",
    ".cc-label { display: block; margin-bottom: .25em; font-weight: 600; font-size: .875em; }",
    ".cc-input-row { display: flex; gap: .5em; align-items: flex-end; }",
    ".cc-input { flex: 1; min-height: 2.75em; max-height: 6.5em; resize: none; padding: .5em .625em;",
    "  border: 1px solid #666; border-radius: .375em; background: #fff; color: #161616; line-height: 1.4; }",
    ".cc-input[aria-invalid='true'] { border-color: #ce0500; box-shadow: inset 0 -2px 0 #ce0500; }",
    ".cc-send { display: inline-flex; align-items: center; gap: .375em; padding: .625em 1em;",
    "  border: 0; border-radius: .375em; background: #000091; color: #fff; font-weight: 600; cursor: pointer; }",
    ".cc-send:hover { background: #1212ff; }",
    ".cc-send:disabled { background: #e5e5e5; color: #666; cursor: not-allowed; }",
    ".cc-send svg { width: 1em; height: 1em; }",
    ".cc-mic { display: inline-flex; align-items: center; justify-content: center; min-width: 2.75em;",
    "  min-height: 2.75em; padding: .5em; border: 1px solid #000091; border-radius: .375em; background: #fff;",
    "  color: #000091; cursor: pointer; }",
    ".cc-mic:hover { background: #e8edff; }",
    ".cc-mic[aria-pressed='true'] { background: #000091; color: #fff; }",
    ".cc-mic svg { width: 1.25em; height: 1.25em; }",
    ".cc-meta { display: flex; flex-wrap: wrap; align-items: baseline; gap: .125em .75em; margin-top: .375em;",
    "  font-size: .75em; color: #3a3a3a; }",
    ".cc-meta > :first-child { flex: 1 1 14em; }",
    ".cc-counter { margin-left: auto; white-space: nowrap; }",
    ".cc-counter.cc-over { color: #ce0500; font-weight: 700; }",
    ".cc-retry { margin-top: .5em; border: 1px solid #000091; background: #fff; color: #000091;",
    "  border-radius: .375em; padding: .375em .75em; font: inherit; cursor: pointer; }",

    /* « Parler à un agent », offered up front */
    ".cc-choice { display: flex; justify-content: flex-end; padding: .375em 1em; border-bottom: 1px solid #ddd; }",
    ".cc-agent { border: 1px solid #000091; background: #fff; color: #000091; border-radius: .375em;",
    "  padding: .375em .75em; font-weight: 600; cursor: pointer; }",
    ".cc-agent:hover { background: #e8edff; }",
    ".cc-agent:disabled { border-color: #929292; color: #666; cursor: not-allowed; }",
    /* feedback under each answer */
    ".cc-feedback { display: flex; flex-wrap: wrap; align-items: center; gap: .375em; margin-top: .375em;",
    "  font-size: .8125em; color: #3a3a3a; }",
    ".cc-thumb { min-width: 2.5em; min-height: 2.25em; border: 1px solid #929292; border-radius: .375em;",
    "  background: #fff; color: #161616; cursor: pointer; }",
    ".cc-thumb[aria-pressed='true'] { border-color: #000091; background: #000091; color: #fff; }",
    ".cc-feedback-form { display: flex; flex-direction: column; gap: .25em; width: 100%; margin-top: .25em; }",
    ".cc-feedback-form select, .cc-feedback-form textarea { font: inherit; padding: .25em; border: 1px solid #3a3a3a;",
    "  border-radius: .25em; }",
    ".cc-feedback-form button { align-self: flex-start; }",
    ".cc-feedback-done { margin: 0; }",
    ".cc-header, .cc-notice, .cc-choice, .cc-typing, .cc-status, .cc-form { flex: none; }",
    /* small screens: full-screen panel */
    "@media (max-width: 30em), (max-height: 30em) {",
    "  .cc-panel { inset: 0; width: 100%; height: 100%; max-height: 100dvh; border: 0; border-radius: 0; }",
    "  .cc-launcher { right: .75em; bottom: .75em; }",
    "  .cc-msg { max-width: 95%; }",
    "}",
    /* very low screens (a phone held sideways): the whole panel scrolls under its header */
    "@media (max-height: 30em) {",
    "  .cc-panel { overflow-y: auto; }",
    "  .cc-header { position: sticky; top: 0; z-index: 1; }",
    "  .cc-log { flex: none; overflow: visible; min-height: auto; }",
    "}",
    "@media (forced-colors: active) { .cc-bubble, .cc-launcher, .cc-send, .cc-mic { border: 1px solid CanvasText; } }",
  ].join("\n");

  // ------------------------------------------------------------------ small DOM helpers

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M3 11l18-8-8 18-2-8-8-2z",
    external: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5",
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", name === "chat" || name === "send" ? "currentColor" : "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  /** Creates an element: el("p", {class: "x", "aria-live": "polite"}, child, "text", ...). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  var uid = 0;
  function nextId(prefix) {
    uid += 1;
    return "cc-" + prefix + "-" + uid;
  }

  /** Only http(s) links are followed; anything else (javascript:, data:) is shown as text. */
  function safeUrl(url) {
    try {
      var parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function externalLink(url, className, label) {
    var href = safeUrl(url);
    if (!href) return el("span", { class: className }, label);
    return el(
      "a",
      { href: href, class: className, target: "_blank", rel: "noopener noreferrer" },
      label,
      el("span", { class: "cc-sr", text: TEXT.newWindow }),
      icon("external")
    );
  }

  // ------------------------------------------------------------------ answer rendering

  var INLINE = /\*\*([^*\n]+)\*\*|\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
  var LIST_ITEM = /^\s*(?:[-*•]|\d+[.)])\s+/;

  /** Text with **bold** and citation markers [1] / [1, 2] turned into links to the sources. */
  function renderInline(parent, text, sourcesByN) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", { text: match[1] }));
      } else {
        match[2].split(/\s*[,;]\s*/).forEach(function (n) {
          parent.appendChild(citation(n, sourcesByN[n]));
        });
      }
      last = INLINE.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function citation(n, source) {
    var href = source && safeUrl(source.url);
    if (!href) return document.createTextNode("[" + n + "]");
    return el("a", {
      class: "cc-cite",
      href: href,
      target: "_blank",
      rel: "noopener noreferrer",
      "aria-label": "Source " + n + " : " + source.title + TEXT.newWindow,
      text: "[" + n + "]",
    });
  }

  /** Paragraphs (blank lines), line breaks, and bulleted or numbered lists (runs of "- " lines). */
  function renderAnswer(container, text, sources) {
    var sourcesByN = {};
    (sources || []).forEach(function (s) {
      sourcesByN[String(s.n)] = s;
    });
    container.replaceChildren();
    text
      .trim()
      .split(/\n\s*\n/)
      .forEach(function (block) {
        var current = null; // the <p>, <ul> or <ol> that the next line continues
        block.split("\n").forEach(function (line) {
          if (!line.trim()) return;
          if (LIST_ITEM.test(line)) {
            var tag = /^\s*\d/.test(line) ? "ol" : "ul";
            if (!current || current.tagName.toLowerCase() !== tag) {
              current = container.appendChild(el(tag));
            }
            renderInline(current.appendChild(el("li")), line.replace(LIST_ITEM, ""), sourcesByN);
            return;
          }
          if (current && current.tagName === "P") current.appendChild(el("br"));
          else current = container.appendChild(el("p"));
          renderInline(current, line, sourcesByN);
        });
      });
  }

  /** "[1] Title" links, the passage heading, then the distinct attribution lines. */
  function renderSources(sources, title) {
    var titleId = nextId("sources");
    var list = el("ol");
    var attributions = [];
    sources.forEach(function (s) {
      var heading = s.heading && s.heading !== s.title ? el("span", { class: "cc-heading", text: s.heading }) : null;
      list.appendChild(el("li", null, externalLink(s.url, "cc-source", "[" + s.n + "] " + (s.title || s.url)), heading));
      if (s.attribution && attributions.indexOf(s.attribution) === -1) attributions.push(s.attribution);
    });
    var box = el(
      "div",
      { class: "cc-sources", role: "group", "aria-labelledby": titleId },
      el("p", { class: "cc-sources-title", id: titleId, text: title }),
      list
    );
    attributions.forEach(function (a) {
      box.appendChild(el("p", { class: "cc-attrib", text: a }));
    });
    return box;
  }

  // ------------------------------------------------------------------ Server-Sent Events over POST

  /** Incremental parser of a text/event-stream body; calls onEvent(name, data) per event. */
  function createSseParser(onEvent) {
    var buffer = "";
    var pendingCR = false;

    function dispatch(block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var colon = line.indexOf(":");
        var field = colon === -1 ? line : line.slice(0, colon);
        var value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      if (!data.length) return;
      var payload;
      try {
        payload = JSON.parse(data.join("\n"));
      } catch (e) {
        return; // not ours: ignore rather than break the conversation
      }
      onEvent(name, payload);
    }

    return {
      feed: function (chunk) {
        // A CRLF may be split across two chunks: hold a trailing CR back.
        if (pendingCR) chunk = "\r" + chunk;
        pendingCR = chunk.charAt(chunk.length - 1) === "\r";
        if (pendingCR) chunk = chunk.slice(0, -1);
        buffer += chunk.replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          var block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          dispatch(block);
        }
      },
      end: function () {
        if (buffer.trim()) dispatch(buffer);
        buffer = "";
      },
    };
  }

  async function readEventStream(response, onEvent) {
    var parser = createSseParser(onEvent);
    var reader = response.body.getReader();
    var decoder = new TextDecoder("utf-8");
    for (;;) {
      var step = await reader.read();
      if (step.done) break;
      parser.feed(decoder.decode(step.value, { stream: true }));
    }
    parser.feed(decoder.decode());
    parser.end();
  }

  // ------------------------------------------------------------------ API client

  // The conversation kept for a reload: its id and the resident's credential for it
  // (resident_token, which the API asks for every request about the conversation).
  var storageKey = "cc-webchat:" + config.apiBase + ":" + config.tenant;
  var store = {
    get: function () {
      try {
        var kept = JSON.parse(localStorage.getItem(storageKey) || "null");
        return kept && typeof kept.id === "string" && typeof kept.token === "string" ? kept : null;
      } catch (e) {
        return null; // storage blocked or an older format: a new conversation starts
      }
    },
    set: function (id, token) {
      try {
        localStorage.setItem(storageKey, JSON.stringify({ id: id, token: token }));
      } catch (e) {
        /* see get() */
      }
    },
    clear: function () {
      try {
        localStorage.removeItem(storageKey);
      } catch (e) {
        /* see get() */
      }
    },
  };

  /** A call to the API; ``options.token`` is the resident's credential for the conversation. */
  function api(path, options) {
    options = options || {};
    var headers = { Accept: options.accept || "application/json" };
    if (options.body) headers["Content-Type"] = "application/json";
    if (options.token) headers.Authorization = "Bearer " + options.token;
    return fetch(config.apiBase + "/api/v1" + path, {
      method: options.method || "GET",
      headers: headers,
      body: options.body ? JSON.stringify(options.body) : undefined,
      credentials: "omit",
      signal: options.signal,
    });
  }

  /**
   * The French message of a refused request: {code, message}, or FastAPI's {detail: {code,
   * message}}; otherwise a message that fits the status.
   */
  async function refusalMessage(response, sentText) {
    try {
      var body = await response.json();
      var error = body && typeof body.message === "string" ? body : body && body.detail;
      if (error && typeof error.message === "string" && error.message) return error.message;
    } catch (e) {
      /* not JSON (a proxy page...): fall back on the status */
    }
    if (response.status === 413 || (response.status === 422 && sentText.length > config.maxChars)) {
      return TEXT.tooLong(config.maxChars);
    }
    if (response.status === 429) return TEXT.rateLimited;
    if (response.status >= 500) return TEXT.unavailable;
    return TEXT.refused;
  }

  // ------------------------------------------------------------------ the widget

  var host = document.createElement("contact-center-widget");
  host.setAttribute("lang", "fr");
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS); // not subject to the host page's CSP on inline styles
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: CSS }));
  }

  var ui = buildUi();
  root.appendChild(ui.container);

  var state = {
    conversationId: null,
    token: null, // the resident's credential for the conversation
    loading: null, // Promise of the conversation being loaded or created
    streaming: false,
    controller: null,
    opener: null,
    statusTimer: null,
    typingTimer: null, // hides « Un agent écrit… » when the agent stops typing
    typingSentAt: 0, // when the page last said that the resident types
    events: null, // the stream following the agent while one holds the conversation
    agentMessages: {}, // ids of the agent's messages shown (a reconnection may repeat one)
    ratingShown: false,
  };

  function buildUi() {
    var launcher = el(
      "button",
      { type: "button", class: "cc-launcher", "aria-expanded": "false", "aria-controls": "cc-panel" },
      icon("chat"),
      el("span", { text: TEXT.launcher })
    );
    var newButton = el("button", { type: "button", class: "cc-new", text: TEXT.newConversation });
    var closeButton = el(
      "button",
      { type: "button", class: "cc-close", "aria-label": TEXT.close, title: TEXT.close },
      icon("close")
    );
    var notice = el("p", { class: "cc-notice", id: "cc-notice", role: "note", text: TEXT.loading });
    var agentButton = el("button", { type: "button", class: "cc-agent", text: TEXT.askAgent });
    var log = el("div", {
      class: "cc-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0",
    });
    var status = el("p", { class: "cc-status", role: "status", "aria-live": "polite" });
    // « Un agent écrit… » while the agent types (polite: announced without interrupting).
    var typing = el("p", { class: "cc-typing", "aria-live": "polite" });
    var alert = el("p", { class: "cc-alert", role: "alert" });
    var input = el("textarea", {
      id: "cc-input",
      class: "cc-input",
      rows: "2",
      name: "message",
      autocomplete: "off",
      "aria-describedby": "cc-hint cc-counter",
    });
    var sendButton = el("button", { type: "submit", class: "cc-send" }, icon("send"), el("span", { text: TEXT.send }));
    var counter = el("span", { class: "cc-counter", id: "cc-counter" });
    var form = el(
      "form",
      { class: "cc-form", novalidate: true },
      alert,
      el("label", { class: "cc-label", for: "cc-input", text: TEXT.inputLabel }),
      el("div", { class: "cc-input-row" }, input, sendButton),
      el("div", { class: "cc-meta" }, el("span", { id: "cc-hint", text: TEXT.hint }), counter)
    );
    var panel = el(
      "section",
      {
        id: "cc-panel",
        class: "cc-panel",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "cc-title",
        "aria-describedby": "cc-notice",
        lang: "fr",
        hidden: true,
      },
      el(
        "div",
        { class: "cc-header" },
        el("h2", { class: "cc-title", id: "cc-title", text: config.title }),
        newButton,
        closeButton
      ),
      notice,
      el("div", { class: "cc-choice" }, agentButton),
      log,
      typing,
      status,
      form
    );
    return {
      container: el("div", { class: "cc", lang: "fr" }, launcher, panel),
      launcher: launcher,
      panel: panel,
      newButton: newButton,
      closeButton: closeButton,
      notice: notice,
      agentButton: agentButton,
      log: log,
      status: status,
      typing: typing,
      alert: alert,
      form: form,
      input: input,
      sendButton: sendButton,
      counter: counter,
    };
  }

  // ---------------------------------------------------------------- opening and closing

  function isOpen() {
    return !ui.panel.hidden;
  }

  function open(options) {
    var moveFocus = !options || options.focus !== false;
    if (!isOpen()) {
      var active = document.activeElement;
      state.opener = active && active !== document.body && active !== host ? active : null;
      ui.panel.hidden = false;
      ui.launcher.setAttribute("aria-expanded", "true");
      ensureConversation().catch(function () {
        /* shown in the panel by ensureConversation */
      });
      scrollToEnd(true);
    }
    if (moveFocus) ui.input.focus();
  }

  /** Closes the panel and gives focus back to what opened it (the launcher by default). */
  function close() {
    if (!isOpen()) return;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    var target = state.opener && state.opener.isConnected ? state.opener : ui.launcher;
    state.opener = null;
    target.focus();
  }

  ui.launcher.addEventListener("click", function () {
    if (isOpen()) close();
    else open();
  });
  ui.closeButton.addEventListener("click", close);
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-cc-open]");
    if (!trigger) return;
    event.preventDefault();
    if (isOpen()) ui.input.focus();
    else open();
    state.opener = state.opener || trigger;
  });

  // ---------------------------------------------------------------- conversation

  function ensureConversation() {
    if (!state.loading) {
      state.loading = loadOrCreate().catch(function (error) {
        console.error("[widget] Conversation indisponible :", error);
        state.loading = null;
        showLoadFailure();
        throw error;
      });
    }
    return state.loading;
  }

  /** A conversation that is gone (expired, purged) or no longer ours: start another. */
  function lost(response) {
    return response.status === 404 || response.status === 401 || response.status === 403;
  }

  async function loadOrCreate() {
    var kept = store.get();
    if (kept) {
      var response = await api("/conversations/" + encodeURIComponent(kept.id), { token: kept.token });
      if (response.ok) {
        renderConversation(await response.json(), kept.token);
        return;
      }
      if (!lost(response)) throw new Error("HTTP " + response.status);
      store.clear();
    }
    await createConversation();
  }

  async function createConversation() {
    var response = await api("/conversations", { method: "POST", body: { tenant_id: config.tenant } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    var conversation = await response.json();
    store.set(conversation.id, conversation.resident_token);
    renderConversation(conversation, conversation.resident_token);
  }

  function renderConversation(conversation, token) {
    state.conversationId = conversation.id;
    state.token = token;
    ui.notice.textContent = conversation.notice || "";
    ui.log.replaceChildren();
    var messages = conversation.messages || [];
    if (!messages.length) {
      ui.log.appendChild(
        el("div", { class: "cc-intro" }, el("p", { text: TEXT.empty }), el("p", { text: TEXT.privacy }))
      );
    }
    messages.forEach(function (m) {
      if (m.role === "user") appendUserMessage(m.content);
      else if (m.role === "assistant" && m.status === "failed") appendAssistantMessage().fail(m.content);
      else if (m.role === "assistant") appendAssistantMessage().finish(m);
      else if (m.role === "agent") appendAgentMessage(m);
    });
    scrollToEnd(true);
    var handoff = conversation.handoff;
    if (handoff && (handoff.status === "waiting" || handoff.status === "claimed")) {
      followAgent(messages.length ? messages[messages.length - 1].id : null);
    } else if (handoff && handoff.rating_pending) {
      askRating(TEXT.exchangeEnded);
    }
  }

  function showLoadFailure() {
    var retry = el("button", { type: "button", class: "cc-retry", text: TEXT.retry });
    retry.addEventListener("click", function () {
      ui.log.replaceChildren();
      ensureConversation().then(
        function () { ui.input.focus(); },
        function () {}
      );
    });
    ui.log.replaceChildren(el("div", { class: "cc-intro" }, el("p", { text: TEXT.unavailable }), retry));
    if (ui.notice.textContent === TEXT.loading) ui.notice.textContent = "";
  }

  async function startNewConversation() {
    if (state.controller) state.controller.abort();
    stopFollowing();
    state.agentMessages = {};
    state.ratingShown = false;
    store.clear();
    state.loading = null;
    ui.log.replaceChildren();
    clearAlert();
    try {
      await ensureConversation();
      setStatus(TEXT.started, 3000);
    } catch (e) {
      /* shown in the panel */
    }
    ui.input.focus();
  }

  ui.newButton.addEventListener("click", startNewConversation);

  // ---------------------------------------------------------------- messages

  /** What scrolls: the conversation, or the whole panel on very low screens. */
  function scroller() {
    return getComputedStyle(ui.log).overflowY === "visible" ? ui.panel : ui.log;
  }

  function nearBottom() {
    var box = scroller();
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }

  function scrollToEnd(force) {
    var box = scroller();
    if (force || nearBottom()) box.scrollTop = box.scrollHeight;
  }

  /** Runs a change that makes the conversation taller, following it if the end was in view. */
  function growing(change) {
    var follow = nearBottom();
    change();
    if (follow) scrollToEnd(true);
  }

  function removeIntro() {
    var intro = ui.log.querySelector(".cc-intro");
    if (intro) intro.remove();
  }

  function appendUserMessage(text) {
    removeIntro();
    ui.log.appendChild(
      el(
        "article",
        { class: "cc-msg cc-msg--user", "aria-label": TEXT.youLabel },
        el("p", { class: "cc-who", "aria-hidden": "true", text: TEXT.you }),
        el("div", { class: "cc-bubble", text: text })
      )
    );
    scrollToEnd(true);
  }

  /** Turns that hand the conversation over rather than answer: no feedback under them. */
  var NOT_ANSWERS = ["handoff", "callback_offered"];

  /** An assistant message that can be filled progressively (sources, tokens) then finished. */
  function appendAssistantMessage() {
    removeIntro();
    var bubble = el(
      "div",
      { class: "cc-bubble" },
      el("span", { class: "cc-dots", "aria-hidden": "true" }, el("span"), el("span"), el("span"))
    );
    var article = el(
      "article",
      { class: "cc-msg cc-msg--assistant", "aria-label": TEXT.assistantLabel, "aria-busy": "true" },
      el("p", { class: "cc-who", "aria-hidden": "true", text: TEXT.assistant }),
      bubble
    );
    ui.log.appendChild(article);
    scrollToEnd(true);

    var streamed = "";
    var found = [];
    var sourcesBox = null;
    var finished = false;
    var frame = 0;

    function setSources(sources, title) {
      if (sourcesBox) sourcesBox.remove();
      sourcesBox = sources && sources.length ? renderSources(sources, title) : null;
      if (sourcesBox) article.appendChild(sourcesBox);
    }

    function end(outcome) {
      finished = true;
      if (frame) cancelAnimationFrame(frame);
      article.setAttribute("aria-busy", "false");
      article.dataset.state = outcome;
    }

    return {
      /** A silent turn (an agent holds the conversation): no assistant bubble at all. */
      remove: function () {
        end("silent");
        article.remove();
      },
      get finished() {
        return finished;
      },
      sources: function (sources) {
        found = sources || [];
        growing(function () {
          setSources(found, TEXT.sourcesFound);
        });
      },
      token: function (text) {
        streamed += text;
        // Re-render once per frame so that citations become links as they arrive.
        if (!frame) {
          frame = requestAnimationFrame(function () {
            frame = 0;
            growing(function () {
              renderAnswer(bubble, streamed, found);
            });
          });
        }
      },
      /** The final answer ({answer|content, sources, abstained}) replaces the streamed text. */
      finish: function (result) {
        if (finished) return; // after an error event, the closing "done" repeats the apology
        var text = result.answer !== undefined ? result.answer : result.content;
        end("done");
        var messageId = result.message_id || result.id;
        growing(function () {
          renderAnswer(bubble, text || streamed, result.sources);
          setSources(result.sources, TEXT.sourcesCited);
          if (messageId && NOT_ANSWERS.indexOf(result.action) < 0) article.appendChild(feedbackControls(messageId));
        });
        if (result.abstained) article.classList.add("cc-msg--abstained");
      },
      /** An error replaces the answer; the sources found, if any, stay as a help. */
      fail: function (message) {
        if (finished) return;
        end("error");
        article.classList.add("cc-msg--error");
        growing(function () {
          bubble.replaceChildren(el("p", { text: message }));
        });
      },
    };
  }

  // ---------------------------------------------------------------- status, alert, counter

  function setStatus(text, clearAfterMs) {
    clearTimeout(state.statusTimer);
    ui.status.textContent = text;
    if (clearAfterMs) {
      state.statusTimer = setTimeout(function () {
        ui.status.textContent = "";
      }, clearAfterMs);
    }
  }

  function showAlert(text) {
    ui.alert.textContent = text;
  }

  function clearAlert() {
    ui.alert.textContent = "";
  }

  function updateCounter() {
    var n = ui.input.value.length;
    var over = n > config.maxChars;
    ui.counter.textContent = n >= config.maxChars * 0.8 ? TEXT.counter(n, config.maxChars) : "";
    ui.counter.classList.toggle("cc-over", over);
    if (over) ui.input.setAttribute("aria-invalid", "true");
    else ui.input.removeAttribute("aria-invalid");
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = ui.input.scrollHeight + 2 + "px";
  }

  function setStreaming(on) {
    state.streaming = on;
    ui.sendButton.disabled = on;
    ui.agentButton.disabled = on;
  }

  ui.input.addEventListener("input", function () {
    updateCounter();
    autoGrow();
    sayTyping();
  });

  /** Tells the agent who follows the conversation that the resident types (every 2 s at most;
   *  nothing is stored, a lost signal only costs the indicator). */
  function sayTyping() {
    if (!state.events || !state.conversationId || !ui.input.value.trim()) return;
    var now = Date.now();
    if (now - state.typingSentAt < TYPING_EVERY_MS) return;
    state.typingSentAt = now;
    api("/conversations/" + encodeURIComponent(state.conversationId) + "/typing", {
      method: "POST",
      token: state.token,
    }).catch(function () {});
  }

  function showAgentTyping(text) {
    clearTimeout(state.typingTimer);
    ui.typing.textContent = text || "";
    if (text) {
      state.typingTimer = setTimeout(function () {
        ui.typing.textContent = "";
      }, TYPING_SHOWN_MS);
    }
  }
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!state.streaming) send();
    }
  });
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  // The resident asks for a person at once: the request goes as their message (the engine
  // hands the conversation over), whatever they were typing stays in the input.
  ui.agentButton.addEventListener("click", function () {
    if (!state.streaming) send(TEXT.askAgentMessage);
  });

  // ---------------------------------------------------------------- sending

  function postMessage(text, signal) {
    return api("/conversations/" + encodeURIComponent(state.conversationId) + "/messages", {
      method: "POST",
      body: { content: text },
      accept: "text/event-stream",
      token: state.token,
      signal: signal,
    });
  }

  /**
   * Sends the question (or ``preset``, a message of the widget's own such as the request for an
   * agent); a refused question stays in the input with the API's French explanation.
   */
  async function send(preset) {
    if (state.streaming) return;
    var text = typeof preset === "string" ? preset : ui.input.value.trim();
    if (!text) {
      showAlert(TEXT.emptyMessage);
      ui.input.focus();
      return;
    }
    clearAlert();
    setStreaming(true);
    var controller = new AbortController();
    state.controller = controller;
    var response;
    try {
      await ensureConversation();
      response = await postMessage(text, controller.signal);
      if (lost(response)) {
        store.clear(); // the conversation is gone: start a new one, keep the question
        await createConversation();
        response = await postMessage(text, controller.signal);
      }
    } catch (error) {
      setStreaming(false);
      if (!controller.signal.aborted) showAlert(TEXT.unavailable);
      return;
    }
    if (!response.ok) {
      showAlert(await refusalMessage(response, text));
      setStreaming(false);
      ui.input.focus();
      return;
    }

    if (typeof preset !== "string") {
      ui.input.value = "";
      updateCounter();
      autoGrow();
      ui.input.focus();
    }
    appendUserMessage(text);
    await streamAnswer(response, appendAssistantMessage(), controller);
  }

  async function streamAnswer(response, message, controller) {
    setStatus(TEXT.searching);
    try {
      await readEventStream(response, function (name, data) {
        if (name === "sources") {
          message.sources(data.sources);
          setStatus(TEXT.writing);
        } else if (name === "token") {
          if (typeof data.text === "string") message.token(data.text);
        } else if (name === "done" && data.action === "with_agent") {
          message.remove(); // the agent answers, through the events stream
          setStatus(TEXT.forwarded, 4000);
          followAgent(null);
        } else if (name === "done") {
          var failed = message.finished; // an error event came first and is what stays shown
          message.finish(data);
          if (!failed) setStatus(TEXT.received, 4000);
          if (data.action === "handoff") followAgent(data.message_id);
        } else if (name === "error") {
          message.fail(data.message || TEXT.interrupted);
          setStatus("");
        }
      });
    } catch (error) {
      /* network cut or aborted: handled below */
    }
    if (!message.finished && !controller.signal.aborted) {
      message.fail(TEXT.interrupted);
      setStatus("");
    }
    if (state.controller === controller) state.controller = null;
    setStreaming(false);
  }

  // ---------------------------------------------------------------- the agent, live

  function appendAgentMessage(m) {
    if (m.id) {
      if (state.agentMessages[m.id]) return;
      state.agentMessages[m.id] = true;
    }
    removeIntro();
    growing(function () {
      ui.log.appendChild(
        el(
          "article",
          { class: "cc-msg cc-msg--agent", "aria-label": TEXT.agentLabel },
          el("p", { class: "cc-who", "aria-hidden": "true", text: TEXT.agent }),
          el("div", { class: "cc-bubble", text: m.content })
        )
      );
    });
  }

  /** A line about the exchange (an agent joined, the conversation was transferred...). */
  function appendEvent(text) {
    if (!text) return;
    growing(function () {
      ui.log.appendChild(el("p", { class: "cc-event", text: text }));
    });
  }

  /** Follows what the agent does. The stream is read with fetch, which carries the
   *  conversation's credential (EventSource cannot); after a cut it is reopened, resuming after
   *  the last agent message received. ``after`` is the last message already shown. */
  function followAgent(after) {
    if (state.events || !state.conversationId) return;
    var follow = { stopped: false, controller: null, after: after };
    state.events = follow;
    var handlers = {
      status: function (data) {
        if (data.status === "waiting" || data.status === "claimed") return;
        stopFollowing();
        if (data.rating_pending) askRating(TEXT.exchangeEnded);
      },
      agent_joined: function (data) {
        appendEvent(data.message);
      },
      agent_typing: function (data) {
        showAgentTyping(data.message || TEXT.agentTyping);
      },
      agent_message: function (data) {
        showAgentTyping("");
        if (data.id) follow.after = data.id;
        appendAgentMessage(data);
      },
      transferred: function (data) {
        appendEvent(data.message);
      },
      closed: function (data) {
        stopFollowing();
        askRating(data.message);
      },
      handed_back: function (data) {
        stopFollowing();
        appendEvent(data.message);
      },
    };
    function following() {
      return state.events === follow && !follow.stopped;
    }
    (async function () {
      var delay = 1000;
      while (following()) {
        var path = "/conversations/" + encodeURIComponent(state.conversationId) + "/events";
        if (follow.after) path += "?after=" + encodeURIComponent(follow.after);
        follow.controller = new AbortController();
        try {
          var response = await api(path, {
            accept: "text/event-stream",
            token: state.token,
            signal: follow.controller.signal,
          });
          if (!response.ok && response.status < 500) break; // refused or gone: nothing to follow
          if (response.ok) {
            delay = 1000;
            await readEventStream(response, function (name, data) {
              if (following() && handlers[name]) handlers[name](data);
            });
          }
        } catch (e) {
          /* network cut or stopped: see below */
        }
        if (!following()) break;
        await new Promise(function (resolve) {
          setTimeout(resolve, delay);
        });
        delay = Math.min(delay * 2, 30000);
      }
      if (state.events === follow) state.events = null;
    })();
  }

  function stopFollowing() {
    showAgentTyping("");
    var follow = state.events;
    state.events = null;
    if (follow) {
      follow.stopped = true;
      if (follow.controller) follow.controller.abort();
    }
  }

  /** The 1 to 5 rating of the exchange (a radio group), posted once. */
  function askRating(closingText) {
    if (state.ratingShown) return;
    state.ratingShown = true;
    appendEvent(closingText);
    var legendId = nextId("rating");
    var fieldset = el("fieldset", { class: "cc-rating" }, el("legend", { id: legendId, text: TEXT.ratingLegend }));
    TEXT.ratingChoices.forEach(function (label, i) {
      fieldset.appendChild(
        el("label", null, el("input", { type: "radio", name: "cc-rating", value: String(i + 1) }), el("span", { text: label }))
      );
    });
    var problem = el("p", { class: "cc-alert", role: "alert" });
    var submit = el("button", { type: "submit", class: "cc-retry", text: TEXT.ratingSend });
    fieldset.appendChild(problem);
    fieldset.appendChild(submit);
    var form = el("form", { class: "cc-rating-form", "aria-labelledby": legendId, novalidate: true }, fieldset);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var chosen = form.querySelector("input[name='cc-rating']:checked");
      if (!chosen) {
        problem.textContent = TEXT.ratingMissing;
        return;
      }
      submit.disabled = true;
      problem.textContent = "";
      try {
        var response = await api("/conversations/" + encodeURIComponent(state.conversationId) + "/rating", {
          method: "POST",
          body: { score: parseInt(chosen.value, 10) },
          token: state.token,
        });
        if (response.ok || response.status === 409) {
          var thanks = response.ok ? TEXT.ratingThanks : await refusalMessage(response, "");
          form.replaceWith(el("p", { class: "cc-event", role: "status", text: thanks }));
          setStatus("");
          return;
        }
        problem.textContent = await refusalMessage(response, "");
      } catch (e) {
        problem.textContent = TEXT.unavailable;
      }
      submit.disabled = false;
    });
    growing(function () {
      ui.log.appendChild(form);
    });
    setStatus(TEXT.ratingAsked, 6000);
  }

  // ---------------------------------------------------------------- feedback on answers

  function postFeedback(messageId, body) {
    var path =
      "/conversations/" + encodeURIComponent(state.conversationId) +
      "/messages/" + encodeURIComponent(messageId) + "/feedback";
    return api(path, { method: "POST", body: body, token: state.token });
  }

  /** Thumbs up and down under an answer; a thumbs down may say why (a reason, a comment). */
  function feedbackControls(messageId) {
    var box = el("div", { class: "cc-feedback", role: "group", "aria-label": TEXT.feedbackLegend });
    var up = el("button", { type: "button", class: "cc-thumb", "aria-pressed": "false", title: TEXT.feedbackUseful },
      el("span", { "aria-hidden": "true", text: "👍" }), el("span", { class: "cc-sr", text: TEXT.feedbackUseful }));
    var down = el("button", { type: "button", class: "cc-thumb", "aria-pressed": "false", title: TEXT.feedbackNotUseful },
      el("span", { "aria-hidden": "true", text: "👎" }), el("span", { class: "cc-sr", text: TEXT.feedbackNotUseful }));
    var said = el("p", { class: "cc-feedback-done", role: "status" });
    var problem = el("p", { class: "cc-alert", role: "alert" });
    var form = null;
    box.appendChild(el("span", { "aria-hidden": "true", text: TEXT.feedbackLegend }));
    box.appendChild(up);
    box.appendChild(down);
    box.appendChild(said);
    box.appendChild(problem);

    async function give(body) {
      problem.textContent = "";
      try {
        var response = await postFeedback(messageId, body);
        if (response.ok) return true;
        problem.textContent = await refusalMessage(response, "");
      } catch (e) {
        problem.textContent = TEXT.unavailable;
      }
      return false;
    }

    function press(button) {
      up.setAttribute("aria-pressed", String(button === up));
      down.setAttribute("aria-pressed", String(button === down));
    }

    up.addEventListener("click", async function () {
      if (form) { form.remove(); form = null; }
      if (await give({ rating: "up" })) {
        press(up);
        said.textContent = TEXT.feedbackThanks;
      }
    });
    down.addEventListener("click", async function () {
      if (!(await give({ rating: "down" }))) return; // counted at once; the form adds why
      press(down);
      said.textContent = "";
      if (!form) {
        form = reasonForm(function (reason, comment) {
          return give({ rating: "down", reason: reason || null, comment: comment || null });
        }, function () {
          form = null;
          said.textContent = TEXT.feedbackThanks;
        });
        growing(function () { box.appendChild(form); });
        form.querySelector("select").focus();
      }
    });
    return box;
  }

  function reasonForm(submit, done) {
    var selectId = nextId("reason");
    var commentId = nextId("comment");
    var select = el("select", { id: selectId, name: "reason" }, el("option", { value: "", text: TEXT.feedbackNoReason }));
    TEXT.feedbackReasons.forEach(function (r) {
      select.appendChild(el("option", { value: r[0], text: r[1] }));
    });
    var comment = el("textarea", { id: commentId, name: "comment", rows: "2", maxlength: "1000" });
    var button = el("button", { type: "submit", class: "cc-retry", text: TEXT.feedbackSend });
    var form = el("form", { class: "cc-feedback-form", novalidate: true },
      el("label", { for: selectId, text: TEXT.feedbackReason }), select,
      el("label", { for: commentId, text: TEXT.feedbackComment }), comment, button);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      if (await submit(select.value, comment.value.trim())) {
        form.remove();
        done();
      } else {
        button.disabled = false;
      }
    });
    return form;
  }

  // ---------------------------------------------------------------- start

  // Voice mode (channels/webchat/static/voice.js): a microphone button, loaded on demand;
  // data-voice="false" on the script tag leaves it out.
  if (script.dataset.voice !== "false") {
    var voiceTag = document.createElement("script");
    voiceTag.src = config.apiBase + "/voice.js";
    voiceTag.onload = function () {
      window.ContactCenterVoice.attachToWidget({
        apiBase: config.apiBase,
        tenant: config.tenant,
        inputRow: ui.input.parentNode,
        conversation: function () { return store.get(); },
        adopt: function (id, token) {
          // The voice mode opened the conversation: the chat keeps it (and its credential).
          store.set(id, token);
          state.conversationId = id;
          state.token = token;
        },
        userMessage: appendUserMessage,
        assistantMessage: appendAssistantMessage,
      });
    };
    document.head.appendChild(voiceTag);
  }

  window.ContactCenterWidget = {
    open: function () {
      open();
    },
    close: close,
  };

  function mount() {
    document.body.appendChild(host);
    updateCounter();
    if (config.openOnLoad) open({ focus: false });
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
