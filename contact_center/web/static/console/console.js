/*!
 * Agents' console of the citizen contact centre (no build step, no dependency).
 *
 * Signs in through /api/v1/auth, then works through /api/v1/console: the queue of the agent's
 * services, one conversation at a time (messages, why the assistant said each thing, canned
 * responses, a cited reply suggested from the knowledge base, reply, claim, transfer, case,
 * close, hand back, routing correction) and, for supervisors, live figures and each agent's
 * activity over a period, and the commune's outcome figures drawn as inline SVG charts, each
 * named with its values and followed by a table; the history of closed conversations (dates, service, outcome, words),
 * opened read-only. Live updates come from the Server-Sent Events stream
 * /api/v1/console/events; after any event the page reloads what it shows from the API (the
 * database is the truth, events only say when to look); typing events only show
 * « L'usager écrit… » for a while, and the agent's typing is sent, throttled, the other way.
 */
(function () {
  "use strict";

  var API = "/api/v1";
  var PRIORITY = { urgent: "Urgente", high: "Haute", normal: "Normale", low: "Basse" };
  var STATUS = {
    waiting: "En attente",
    claimed: "Prise en charge",
    closed: "Close",
    returned: "Rendue à l'assistant",
  };
  var ROLE = { user: "Usager", assistant: "Assistant", agent: "Agent de la mairie" };
  var ROLES = { agent: "agent", supervisor: "superviseur", admin: "administrateur" };
  var RESIDENT_TYPING = "L'usager écrit…";
  /** How often the console says that the agent types, and how long the resident's indicator
   *  stays after their last keystroke reached the console. */
  var TYPING_EVERY_MS = 2000;
  var TYPING_SHOWN_MS = 6000;

  var state = {
    agent: null,
    csrf: null,
    names: {},
    queue: [],
    queueFetchedAt: 0,
    current: null, // the conversation shown: {id, data}
    suggestedFor: null, // the handoff and resident message the suggestion shown answers
    suggestion: "",
    historyPage: 1,
    historyPages: 1,
    typingTimer: null, // hides « L'usager écrit… » when the resident stops typing
    typingSentAt: 0, // when the console last said that the agent types
    source: null,
    reloadTimer: null,
  };

  function $(id) {
    return document.getElementById(id);
  }

  /** el("p", {class: "x", text: "..."}, child, ...) */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
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

  function announce(text) {
    var box = $("announcer");
    box.textContent = "";
    setTimeout(function () {
      box.textContent = text;
    }, 50);
  }

  // ------------------------------------------------------------------ API client

  async function api(path, options) {
    options = options || {};
    var method = options.method || "GET";
    var headers = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    var response;
    try {
      response = await fetch(API + path, {
        method: method,
        headers: headers,
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        credentials: "same-origin",
      });
    } catch (e) {
      throw { status: 0, message: "Le serveur ne répond pas. Vérifiez votre connexion puis réessayez." };
    }
    var data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
    }
    if (!response.ok) {
      if (response.status === 401 && path.indexOf("/auth/") !== 0) showSignIn(true);
      var message = data && typeof data.message === "string" ? data.message : "La demande a échoué (erreur " + response.status + ").";
      throw { status: response.status, message: message };
    }
    return data;
  }

  // ------------------------------------------------------------------ formatting

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    if (h) return h + " h " + String(m).padStart(2, "0") + " min";
    if (m) return m + " min " + String(s).padStart(2, "0") + " s";
    return s + " s";
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : (Math.round(value * 1000) / 10).toString().replace(".", ",") + " %";
  }

  function serviceName(code) {
    return state.names[code] || code;
  }

  // ------------------------------------------------------------------ sign-in

  function showSignIn(expired) {
    closeEvents();
    state.agent = null;
    $("loading").hidden = true;
    $("workspace").hidden = true;
    $("who").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = expired ? "Votre session a expiré. Merci de vous reconnecter." : "";
    $("email").focus();
  }

  $("sign-in-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var email = $("email").value.trim();
    var password = $("password").value;
    if (!email || !password) {
      $("sign-in-error").textContent = "Indiquez votre adresse électronique et votre mot de passe.";
      return;
    }
    var body = { email: email, password: password };
    if ($("tenant").value.trim()) body.tenant = $("tenant").value.trim();
    try {
      var session = await api("/auth/login", { method: "POST", body: body });
      $("password").value = "";
      start(session);
    } catch (error) {
      $("sign-in-error").textContent = error.message;
      $("password").focus();
    }
  });

  $("sign-out").addEventListener("click", async function () {
    try {
      await api("/auth/logout", { method: "POST" });
    } catch (e) {
      /* signed out anyway */
    }
    state.csrf = null;
    showSignIn(false);
  });

  async function start(session) {
    state.agent = session.agent;
    state.csrf = session.csrf_token;
    $("loading").hidden = true;
    $("sign-in").hidden = true;
    $("workspace").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = session.agent.name + " (" + (ROLES[session.agent.role] || session.agent.role) + ")";
    $("figures").hidden = session.agent.role === "agent";
    $("outcomes").hidden = session.agent.role === "agent";
    await Promise.all([loadServices(), loadCanned()]);
    await Promise.all([loadQueue(), loadFigures(), loadAgentFigures(), loadOutcomes(), loadHistory(1)]);
    openEvents();
    $("queue-title").focus();
  }

  // ------------------------------------------------------------------ reference data

  async function loadServices() {
    var list = await api("/console/services");
    state.names = {};
    ["transfer-service", "case-service"].forEach(function (id) {
      $(id).replaceChildren();
    });
    $("history-service").replaceChildren(el("option", { value: "", text: "Tous" }));
    $("outcomes-service").replaceChildren(el("option", { value: "", text: "Tous" }));
    list.forEach(function (s) {
      state.names[s.code] = s.name;
      $("history-service").appendChild(el("option", { value: s.code, text: s.name }));
      $("outcomes-service").appendChild(el("option", { value: s.code, text: s.name }));
      $("transfer-service").appendChild(el("option", { value: s.code, text: s.name }));
      $("case-service").appendChild(el("option", { value: s.code, text: s.name }));
    });
  }

  async function loadCanned() {
    var list = await api("/console/canned-responses");
    $("canned").replaceChildren();
    list.forEach(function (r) {
      $("canned").appendChild(el("option", { value: r.text, text: r.title }));
    });
  }

  $("insert-canned").addEventListener("click", function () {
    var box = $("reply");
    var text = $("canned").value;
    box.value = box.value ? box.value.replace(/\s*$/, "\n") + text : text;
    box.focus();
  });

  // ------------------------------------------------------------------ queue

  async function loadQueue() {
    var queue = await api("/console/queue");
    state.queue = queue.items;
    state.queueFetchedAt = Date.now();
    $("queue-services").replaceChildren();
    queue.services.forEach(function (s) {
      var text = s.service_name + " : " + s.waiting + " en attente";
      if (s.waiting) text += " (la plus longue : " + duration(s.longest_waiting_seconds) + ")";
      $("queue-services").appendChild(el("li", { text: text }));
    });
    renderQueue();
  }

  function renderQueue() {
    var rows = $("queue-rows");
    rows.replaceChildren();
    state.queue.forEach(function (h) {
      var mine = h.claimed_by_me && h.status === "claimed" ? " par vous" : "";
      var open = el("button", {
        type: "button",
        class: "secondary",
        "aria-label": "Ouvrir la conversation : " + h.reason_label + ", " + h.service_name,
        text: "Ouvrir",
      });
      open.addEventListener("click", function () {
        openConversation(h.conversation_id, true);
      });
      var row = el(
        "tr",
        { "data-handoff": h.id, class: state.current && state.current.id === h.conversation_id ? "current" : null },
        el("td", { class: "priority-" + h.priority, text: PRIORITY[h.priority] || h.priority }),
        el("td", { text: h.reason_label }),
        el("td", { text: h.service_name }),
        el("td", { class: "waiting", "data-status": h.status, "data-seconds": String(h.waiting_seconds), text: duration(h.waiting_seconds) }),
        el("td", { text: (STATUS[h.status] || h.status) + mine }),
        el("td", null, open)
      );
      rows.appendChild(row);
    });
    $("queue-empty").hidden = state.queue.length > 0;
    $("queue-table").hidden = state.queue.length === 0;
  }

  /** Waiting times run on between two loads of the queue. */
  setInterval(function () {
    var elapsed = (Date.now() - state.queueFetchedAt) / 1000;
    document.querySelectorAll("#queue-rows td.waiting").forEach(function (cell) {
      if (cell.dataset.status !== "waiting") return;
      cell.textContent = duration(parseFloat(cell.dataset.seconds) + elapsed);
    });
  }, 1000);

  // ------------------------------------------------------------------ figures (supervisors)

  async function loadFigures() {
    if (!state.agent || state.agent.role === "agent") return;
    var f = await api("/console/figures");
    var list = $("figures-list");
    list.replaceChildren();
    [
      ["Conversations en attente", String(f.waiting)],
      ["Conversations en cours avec un agent", String(f.in_progress)],
      ["Taux de transfert à un agent", percent(f.handoff_rate) + " de " + f.conversations + " conversations"],
      ["Délai médian de première réponse", f.median_first_response_s === null ? "–" : duration(f.median_first_response_s)],
      ["Résolution au premier contact", percent(f.first_contact_resolution)],
    ].concat(suggestionFigures(f.suggestions)).forEach(function (pair) {
      list.appendChild(el("dt", { text: pair[0] }));
      list.appendChild(el("dd", { text: pair[1] }));
    });
    var rows = $("figures-reasons");
    rows.replaceChildren();
    f.by_reason.forEach(function (r) {
      rows.appendChild(el("tr", null, el("td", { text: r.label }), el("td", { text: String(r.count) }), el("td", { text: percent(r.rate) })));
    });
  }

  /** What agents did with the replies suggested to them. */
  function suggestionFigures(s) {
    if (!s) return [];
    var used = s.unchanged + s.edited + s.not_used;
    var share = function (n) {
      return used ? " (" + percent(n / used) + ")" : "";
    };
    return [
      ["Réponses suggérées affichées", String(s.shown)],
      ["Envoyées telles quelles", s.unchanged + share(s.unchanged)],
      ["Envoyées après modification", s.edited + share(s.edited)],
      ["Non utilisées", s.not_used + share(s.not_used)],
    ];
  }

  // ------------------------------------------------------------------ conversation

  async function openConversation(id, moveFocus) {
    setAlert("");
    if (!state.current || state.current.id !== id) showResidentTyping(false);
    try {
      var data = await api("/console/conversations/" + encodeURIComponent(id));
      state.current = { id: id, data: data };
      renderConversation(data);
      renderQueue();
      $("conversation").hidden = false;
      if (moveFocus) $("conversation-title").focus();
    } catch (error) {
      setAlert(error.message);
      $("conversation").hidden = false;
    }
  }

  function setAlert(text) {
    $("conversation-alert").textContent = text;
  }

  function renderConversation(data) {
    var h = data.handoff;
    var active = h && (h.status === "waiting" || h.status === "claimed");
    $("conversation-title").textContent = h ? "Conversation : " + h.reason_label : "Conversation";
    $("conversation-meta").textContent = h
      ? "Service : " + h.service_name + " · Statut : " + (STATUS[h.status] || h.status) +
        (h.claimed_by_me && h.status === "claimed" ? " par vous" : "") + (h.resolution_label ? " · Issue : " + h.resolution_label : "") +
        " · Canal : " + data.channel
      : "Aucun transfert à un agent dans cette conversation.";
    $("summary").textContent = data.brief ? data.brief.text : h ? h.summary : "";
    $("summary-box").hidden = !h;
    $("claim").hidden = !(h && h.status === "waiting");
    $("hand-back").disabled = !active;
    $("reply-form").hidden = !(active && h.claimed_by_me);
    $("transfer-form").hidden = !active;
    $("close-form").hidden = !active;
    $("case-form").hidden = !(active && !data.case);
    if (h) $("case-service").value = h.service;
    renderCase(data.case);
    renderMessages(data);
    loadSuggestion(data, active && h.claimed_by_me);
  }

  // ------------------------------------------------------------------ suggested reply

  /** The cited reply suggested for the resident's last message, for the agent who holds the
   * conversation; asked again only when the resident has written since. */
  async function loadSuggestion(data, holds) {
    var box = $("assist");
    if (!holds) {
      box.hidden = true;
      state.suggestedFor = null;
      return;
    }
    var said = data.messages.filter(function (m) {
      return m.role === "user";
    });
    var key = data.handoff.id + ":" + (said.length ? said[said.length - 1].id : "");
    if (state.suggestedFor === key) return;
    state.suggestedFor = key;
    try {
      var s = await api(handoffPath("/suggestion"));
      renderSuggestion(s);
    } catch (error) {
      state.suggestedFor = null;
      renderSuggestion({ text: "", sources: [], note: error.message, question: null });
    }
  }

  function renderSuggestion(s) {
    $("assist").hidden = false;
    state.suggestion = s.text;
    $("assist-question").textContent = s.question ? "En réponse à : « " + s.question + " »" : s.note;
    $("assist-text").textContent = s.text;
    $("assist-text").hidden = !s.text;
    $("assist-insert").hidden = !s.text;
    $("assist-sources-title").hidden = !s.sources.length;
    var list = $("assist-sources");
    list.replaceChildren();
    s.sources.forEach(function (source) {
      var label = "[" + source.n + "] " + source.title + (source.section ? " – " + source.section : "");
      list.appendChild(el("li", null, el("a", { href: source.url, target: "_blank", rel: "noopener", text: label })));
    });
  }

  $("assist-insert").addEventListener("click", function () {
    var box = $("reply");
    var text = state.suggestion || "";
    box.value = box.value.trim() ? box.value.replace(/\s*$/, "\n") + text : text;
    box.focus();
    announce("Réponse suggérée insérée dans votre réponse : relisez-la avant de l'envoyer.");
  });

  function renderCase(c) {
    $("case-status-form").hidden = !c;
    if (!c) return;
    $("case-info").textContent = "Demande n° " + c.number + " (" + c.service_name + ") : " + c.status_label + ".";
    var select = $("case-status");
    select.replaceChildren();
    c.next_statuses.forEach(function (s) {
      select.appendChild(el("option", { value: s.status, text: s.label }));
    });
    select.disabled = c.next_statuses.length === 0;
  }

  function renderMessages(data) {
    var list = $("messages");
    var byMessage = {};
    data.explanations.forEach(function (x) {
      if (x.message_id) byMessage[x.message_id] = x;
    });
    list.replaceChildren();
    data.messages.forEach(function (m) {
      var item = el(
        "li",
        { class: "message message-" + m.role },
        el("p", { class: "who", text: ROLE[m.role] || m.role }),
        el("p", { class: "text", text: m.content })
      );
      if (m.role === "assistant" && byMessage[m.id]) item.appendChild(explanation(byMessage[m.id]));
      list.appendChild(item);
    });
    list.scrollTop = list.scrollHeight;
  }

  /** "Why this answer": sources with scores, routing with runners-up, handoff reason, correction. */
  function explanation(x) {
    var box = el("details", { class: "why" }, el("summary", { text: "Pourquoi cette réponse ?" }));
    if (x.sources.length) {
      var sources = el("ul");
      x.sources.forEach(function (s) {
        var label = (s.title || s.document_id) + " : score " + (s.score === null ? "–" : s.score.toFixed(3)) + (s.cited ? " (citée)" : "");
        sources.appendChild(el("li", { text: label }));
      });
      box.appendChild(el("p", { text: "Sources trouvées :" }));
      box.appendChild(sources);
    } else {
      box.appendChild(el("p", { text: "Aucune source utilisée." }));
    }
    if (x.abstained) box.appendChild(el("p", { text: "L'assistant s'est abstenu (rien d'assez pertinent)." }));
    if (x.routing) {
      var r = x.routing;
      box.appendChild(el("p", { text: "Service proposé : " + r.service_name + " (confiance " + percent(r.confidence) + ")" + (r.needs_triage ? ", à trier par l'accueil" : "") + "." }));
      if (r.alternatives.length) {
        box.appendChild(el("p", { text: "Autres services envisagés : " + r.alternatives.map(function (a) {
          return a.service_name + " (" + percent(a.confidence) + ")";
        }).join(", ") + "." }));
      }
    }
    if (x.handoff_reason_label) box.appendChild(el("p", { text: "Motif du transfert : " + x.handoff_reason_label + "." }));
    box.appendChild(correctionForm(x));
    return box;
  }

  function correctionForm(x) {
    var id = "correct-" + x.record_id;
    var select = el("select", { id: id });
    Object.keys(state.names).forEach(function (code) {
      select.appendChild(el("option", { value: code, text: state.names[code] }));
    });
    select.value = x.corrected_service || (x.routing ? x.routing.service : "affaires_generales");
    var done = el("p", { class: "hint", role: "status", text: x.corrected_service ? "Orientation corrigée : " + serviceName(x.corrected_service) + "." : "" });
    var button = el("button", { type: "submit", class: "secondary", text: "Corriger l'orientation" });
    var form = el("form", { class: "field inline", novalidate: true }, el("label", { for: id, text: "Bon service" }), select, button, done);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      try {
        await api("/console/conversations/" + encodeURIComponent(state.current.id) + "/routing-corrections", {
          method: "POST",
          body: { record_id: x.record_id, service: select.value },
        });
        done.textContent = "Orientation corrigée : " + serviceName(select.value) + ". Merci, l'assistant en tiendra compte.";
      } catch (error) {
        done.textContent = error.message;
      }
    });
    return form;
  }

  // ------------------------------------------------------------------ actions

  function handoffPath(suffix) {
    return "/console/handoffs/" + encodeURIComponent(state.current.data.handoff.id) + suffix;
  }

  /** Runs an action on the conversation shown, then reloads it (and the queue). */
  async function act(run, success) {
    setAlert("");
    try {
      var result = await run();
      await Promise.all([openConversation(state.current.id, false), loadQueue(), loadFigures()]);
      if (success) announce(typeof success === "function" ? success(result) : success);
      return result;
    } catch (error) {
      setAlert(error.message);
      return null;
    }
  }

  $("claim").addEventListener("click", function () {
    act(function () {
      return api(handoffPath("/claim"), { method: "POST" });
    }, "Vous avez pris en charge la conversation.").then(function () {
      if (!$("reply-form").hidden) $("reply").focus();
    });
  });

  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply").value.trim();
    if (!text) {
      setAlert("Votre message est vide.");
      $("reply").focus();
      return;
    }
    act(function () {
      return api(handoffPath("/messages"), { method: "POST", body: { text: text } });
    }, "Message envoyé à l'usager.").then(function (sent) {
      if (sent) $("reply").value = "";
      $("reply").focus();
    });
  });

  $("transfer-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var service = $("transfer-service").value;
    var done = "Conversation transférée au service " + serviceName(service) + ".";
    var agent = state.agent;
    if (agent.role === "agent" && agent.services.indexOf(service) === -1) {
      // The conversation leaves the agent's services: it leaves their screen too.
      setAlert("");
      try {
        await api(handoffPath("/transfer"), { method: "POST", body: { service: service, note: $("transfer-note").value } });
      } catch (error) {
        setAlert(error.message);
        return;
      }
      state.current = null;
      $("conversation").hidden = true;
      $("transfer-note").value = "";
      await loadQueue();
      announce(done);
      $("queue-title").focus();
      return;
    }
    act(function () {
      return api(handoffPath("/transfer"), { method: "POST", body: { service: service, note: $("transfer-note").value } });
    }, done).then(function (moved) {
      if (moved) $("transfer-note").value = "";
    });
  });

  $("case-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var summary = $("case-summary").value.trim();
    if (!summary) {
      setAlert("Indiquez l'objet de la demande.");
      $("case-summary").focus();
      return;
    }
    act(function () {
      return api(handoffPath("/case"), {
        method: "POST",
        body: {
          service: $("case-service").value,
          summary: summary,
          description: $("case-description").value,
          priority: $("case-priority").value,
        },
      });
    }, function (receipt) {
      return "Demande n° " + receipt.number + " créée. Le message pour l'usager est prêt dans la zone de réponse.";
    }).then(function (receipt) {
      if (!receipt) return;
      $("case-summary").value = "";
      $("case-description").value = "";
      $("reply").value = receipt.message;
      $("resolution").value = "case_opened";
    });
  });

  $("case-status-form").addEventListener("submit", function (event) {
    event.preventDefault();
    act(function () {
      return api(handoffPath("/case/status"), {
        method: "POST",
        body: { status: $("case-status").value, reason: $("case-reason").value || null },
      });
    }, "Statut de la demande mis à jour.").then(function (done) {
      if (done) $("case-reason").value = "";
    });
  });

  $("close-form").addEventListener("submit", function (event) {
    event.preventDefault();
    act(function () {
      return api(handoffPath("/close"), { method: "POST", body: { resolution: $("resolution").value } });
    }, "Conversation close. L'usager peut maintenant donner son avis.");
  });

  $("hand-back").addEventListener("click", function () {
    act(function () {
      return api(handoffPath("/hand-back"), { method: "POST" });
    }, "La conversation est rendue à l'assistant.");
  });

  // ------------------------------------------------------------------ live events

  function openEvents() {
    closeEvents();
    var source = new EventSource(API + "/console/events");
    state.source = source;
    source.addEventListener("ready", function () {
      stopPolling();
      liveState("Mise à jour en direct.");
      // Catch up on what happened while disconnected, in the open conversation too: a
      // resident's message sent meanwhile published no event.
      scheduleReload(true);
    });
    source.addEventListener("unavailable", function () {
      // Live events are lost (e.g. Redis is down): the queue and the open conversation are
      // reloaded on a timer until the stream says "ready" again (EventSource reconnects).
      liveState("Suivi en direct interrompu : la file est actualisée toutes les 15 secondes.");
      if (!state.pollTimer) {
        state.pollTimer = setInterval(function () {
          scheduleReload(true);
        }, 15000);
      }
      scheduleReload(true);
    });
    ["handoff_opened", "handoff_claimed", "handoff_transferred", "handoff_closed", "handoff_returned", "case_opened", "resident_message", "agent_message", "resident_typing"].forEach(function (type) {
      source.addEventListener(type, function (message) {
        var event;
        try {
          event = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        onEvent(event);
      });
    });
    source.addEventListener("error", function () {
      if (!state.pollTimer) liveState("Connexion interrompue : nouvelle tentative…");
      if (source.readyState === EventSource.CLOSED) {
        api("/auth/me").then(
          function () {
            setTimeout(openEvents, 3000);
          },
          function () {
            /* api() showed the sign-in form on 401 */
          }
        );
      }
    });
  }

  /** Shows the live events' state in its status region; an unchanged state (the stream says
   * "unavailable" again at each reconnection while Redis is away) is not read out again. */
  function liveState(text) {
    if ($("live-state").textContent !== text) $("live-state").textContent = text;
  }

  function stopPolling() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  function closeEvents() {
    if (state.source) state.source.close();
    state.source = null;
  }

  function onEvent(event) {
    var current = state.current && state.current.id === event.conversation_id;
    if (event.type === "resident_typing") {
      if (current) showResidentTyping(true);
      return; // nothing to reload: typing is not stored
    }
    if (event.type === "resident_message" && current) showResidentTyping(false);
    if (event.type === "handoff_opened") announce("Nouvelle conversation en attente : " + serviceName(event.service) + ".");
    if (event.type === "resident_message" && current) announce("Nouveau message de l'usager.");
    scheduleReload(current);
  }

  /** Reloads at most a few times a second, however many events arrive. */
  function scheduleReload(conversationToo) {
    state.reloadConversation = state.reloadConversation || conversationToo;
    if (state.reloadTimer) return;
    state.reloadTimer = setTimeout(function () {
      var withConversation = state.reloadConversation && state.current;
      state.reloadTimer = null;
      state.reloadConversation = false;
      var jobs = [loadQueue(), loadFigures()];
      if (withConversation) jobs.push(openConversation(state.current.id, false));
      Promise.all(jobs).catch(function () {});
    }, 200);
  }

  // ------------------------------------------------------------------ typing

  function showResidentTyping(on) {
    clearTimeout(state.typingTimer);
    $("resident-typing").textContent = on ? RESIDENT_TYPING : "";
    if (on) {
      state.typingTimer = setTimeout(function () {
        $("resident-typing").textContent = "";
      }, TYPING_SHOWN_MS);
    }
  }

  // The resident sees « Un agent écrit… » (every 2 s at most while the agent types).
  $("reply").addEventListener("input", function () {
    var h = state.current && state.current.data.handoff;
    if (!h || h.status !== "claimed" || !h.claimed_by_me || !$("reply").value.trim()) return;
    var now = Date.now();
    if (now - state.typingSentAt < TYPING_EVERY_MS) return;
    state.typingSentAt = now;
    api("/console/handoffs/" + encodeURIComponent(h.id) + "/typing", { method: "POST" }).catch(function () {});
  });

  // ------------------------------------------------------------------ history

  function frenchDate(iso) {
    return new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" });
  }

  function query(fields) {
    var parts = [];
    Object.keys(fields).forEach(function (name) {
      if (fields[name]) parts.push(name + "=" + encodeURIComponent(fields[name]));
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  async function loadHistory(page) {
    $("history-alert").textContent = "";
    var found;
    try {
      found = await api("/console/history" + query({
        date_from: $("history-from").value, date_to: $("history-to").value,
        service: $("history-service").value, outcome: $("history-outcome").value,
        words: $("history-words").value.trim(), page: String(page),
      }));
    } catch (error) {
      $("history-alert").textContent = error.message;
      return;
    }
    state.historyPage = found.page;
    state.historyPages = found.pages;
    var rows = $("history-rows");
    rows.replaceChildren();
    found.items.forEach(function (c) {
      var open = el("button", { type: "button", class: "secondary", text: "Consulter" },
        el("span", { class: "sr-only", text: " la conversation du " + frenchDate(c.created_at) }));
      open.addEventListener("click", function () {
        openConversation(c.id, true);
      });
      rows.appendChild(el("tr", null,
        el("td", { text: frenchDate(c.created_at) }),
        el("td", { text: c.service_names.join(", ") }),
        el("td", { text: c.outcome_label + (c.agent_name ? " (" + c.agent_name + ")" : "") }),
        el("td", { text: c.excerpt }),
        el("td", null, open)));
    });
    $("history-count").textContent = found.total === 0
      ? "Aucune conversation terminée ne correspond à ces critères."
      : found.total + " conversation" + (found.total > 1 ? "s" : "") + " · page " + found.page + " sur " + found.pages;
    $("history-previous").disabled = found.page <= 1;
    $("history-next").disabled = found.page >= found.pages;
  }

  $("history-form").addEventListener("submit", function (event) {
    event.preventDefault();
    loadHistory(1);
  });
  $("history-previous").addEventListener("click", function () {
    loadHistory(Math.max(1, state.historyPage - 1));
  });
  $("history-next").addEventListener("click", function () {
    loadHistory(Math.min(state.historyPages, state.historyPage + 1));
  });

  async function loadAgentFigures() {
    if (!state.agent || state.agent.role === "agent") return;
    $("agent-figures-alert").textContent = "";
    var found;
    try {
      found = await api("/console/agent-figures" + query({
        date_from: $("agent-figures-from").value, date_to: $("agent-figures-to").value,
      }));
    } catch (error) {
      $("agent-figures-alert").textContent = error.message;
      return;
    }
    var rows = $("agent-figures-rows");
    rows.replaceChildren();
    found.agents.forEach(function (a) {
      var csat = a.csat_average === null ? "–"
        : String(a.csat_average).replace(".", ",") + " / 5 (" + a.csat_count + " avis)";
      rows.appendChild(el("tr", null,
        el("td", { text: a.agent_name }),
        el("td", { text: String(a.taken) }),
        el("td", { text: String(a.closed) }),
        el("td", { text: a.median_first_reply_s === null ? "–" : duration(a.median_first_reply_s) }),
        el("td", { text: csat })));
    });
  }

  $("agent-figures-form").addEventListener("submit", function (event) {
    event.preventDefault();
    loadAgentFigures();
  });

  // ------------------------------------------------------------------ outcomes (supervisors)

  var SVG = "http://www.w3.org/2000/svg";

  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function percent(value) {
    return value === null ? "–" : String(value).replace(".", ",") + " %";
  }

  function csatText(f) {
    return f.csat_average === null ? "–"
      : String(f.csat_average).replace(".", ",") + " / 5 (" + f.csat_count + " avis)";
  }

  /** A chart as one image: its name says what it shows, every value included. */
  function chart(width, height, label) {
    return svgEl("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label });
  }

  /** Horizontal bars: [{label, value}], each bar's length against the largest. */
  function barChart(title, items) {
    var rowHeight = 24;
    var svg = chart(600, Math.max(1, items.length) * rowHeight + 4, title + " : "
      + (items.length ? items.map(function (i) { return i.label + " " + i.value; }).join(", ") : "aucune donnée"));
    var max = Math.max.apply(null, items.map(function (i) { return i.value; }).concat([1]));
    items.forEach(function (item, n) {
      var y = n * rowHeight + 2;
      svg.appendChild(svgEl("text", { x: 0, y: y + 16 }, item.label));
      svg.appendChild(svgEl("rect", { class: "bar-a", x: 260, y: y + 4, height: 14,
        width: Math.max(1, Math.round(280 * item.value / max)) }));
      svg.appendChild(svgEl("text", { x: 264 + Math.round(280 * item.value / max), y: y + 16 }, String(item.value)));
    });
    return svg;
  }

  /** Two rates per day or week, as paired columns from 0 to 100 %. */
  function trendChart(found) {
    var buckets = found.buckets;
    var unit = found.bucket === "week" ? "semaine du " : "";
    var described = buckets.map(function (b) {
      if (!b.closed) return unit + b.start + " : aucune conversation close";
      return unit + b.start + " : résolution automatique " + percent(b.rates.automated_resolution)
        + ", transfert " + percent(b.rates.handoff);
    }).join(" ; ");
    var width = Math.max(300, 40 + buckets.length * 28);
    var svg = chart(width, 200, "Résolution automatique et transferts, en % des conversations closes, par "
      + (found.bucket === "week" ? "semaine" : "jour") + " : " + described);
    [0, 50, 100].forEach(function (tick) {
      var y = 170 - tick * 1.5;
      svg.appendChild(svgEl("text", { x: 0, y: y + 4 }, tick + " %"));
      svg.appendChild(svgEl("line", { x1: 40, x2: width, y1: y, y2: y, stroke: "#ddd" }));
    });
    buckets.forEach(function (b, n) {
      var x = 44 + n * 28;
      [[b.rates.automated_resolution, "bar-a", 0], [b.rates.handoff, "bar-b", 11]].forEach(function (bar) {
        var height = (bar[0] || 0) * 1.5;
        svg.appendChild(svgEl("rect", { class: bar[1], x: x + bar[2], y: 170 - height, width: 10, height: height }));
      });
      if (buckets.length <= 16 || n % 7 === 0) {
        svg.appendChild(svgEl("text", { x: x, y: 188 }, b.start.slice(8, 10) + "/" + b.start.slice(5, 7)));
      }
    });
    var legend = el("p", { class: "hint" },
      el("span", { class: "swatch swatch-a", "aria-hidden": "true" }), " Résolution automatique ",
      el("span", { class: "swatch swatch-b", "aria-hidden": "true" }), " Transfert à un agent");
    return [svg, legend];
  }

  function outcomeFields() {
    return {
      date_from: $("outcomes-from").value, date_to: $("outcomes-to").value,
      bucket: $("outcomes-bucket").value, service: $("outcomes-service").value,
    };
  }

  async function loadOutcomes() {
    if (!state.agent || state.agent.role === "agent") return;
    $("outcomes-alert").textContent = "";
    var found;
    try {
      found = await api("/console/outcomes" + query(outcomeFields()));
    } catch (error) {
      $("outcomes-alert").textContent = error.message;
      return;
    }
    $("outcomes-csv").href = API + "/console/outcomes.csv" + query(outcomeFields());
    var t = found.total;
    var summary = $("outcomes-summary");
    summary.replaceChildren();
    [["Conversations closes", String(t.closed)]].concat(Object.keys(found.rate_labels).map(function (key) {
      return [found.rate_labels[key].replace(" (%)", ""), percent(t.rates[key])];
    })).concat([["Satisfaction moyenne", csatText(t)]]).forEach(function (pair) {
      summary.appendChild(el("dt", { text: pair[0] }));
      summary.appendChild(el("dd", { text: pair[1] }));
    });
    $("outcomes-trend").replaceChildren.apply($("outcomes-trend"), trendChart(found));
    var periods = $("outcomes-periods");
    periods.replaceChildren();
    found.buckets.forEach(function (b) {
      periods.appendChild(el("tr", null,
        el("th", { scope: "row", text: (found.bucket === "week" ? "Semaine du " : "") + b.start }),
        el("td", { text: String(b.closed) }),
        el("td", { text: percent(b.rates.automated_resolution) }),
        el("td", { text: percent(b.rates.handoff) }),
        el("td", { text: percent(b.rates.reopen) }),
        el("td", { text: percent(b.rates.durable_resolution) }),
        el("td", { text: percent(b.rates.first_contact_resolution) }),
        el("td", { text: csatText(b) })));
    });
    $("outcomes-paths").replaceChildren(barChart("Réponses de l'assistant par voie",
      Object.keys(found.answer_paths).map(function (path) {
        return { label: found.path_labels[path], value: found.answer_paths[path] };
      })));
    $("outcomes-reasons").replaceChildren(barChart("Transferts par motif",
      Object.keys(t.handoff_reasons).map(function (reason) {
        return { label: found.reason_labels[reason] || reason, value: t.handoff_reasons[reason] };
      })));
    var services = $("outcomes-services");
    services.replaceChildren();
    found.services.forEach(function (s) {
      services.appendChild(el("tr", null,
        el("th", { scope: "row", text: s.service_name }),
        el("td", { text: String(s.closed) }),
        el("td", { text: percent(s.rates.automated_resolution) }),
        el("td", { text: percent(s.rates.handoff) }),
        el("td", { text: percent(s.rates.durable_resolution) }),
        el("td", { text: csatText(s) })));
    });
    var topics = $("outcomes-topics");
    topics.replaceChildren();
    found.topics.forEach(function (topic) {
      topics.appendChild(el("li", { text: "« " + topic.examples[0] + " » (" + topic.count + " fois)" }));
    });
    if (!found.topics.length) topics.appendChild(el("li", { text: "Aucune sur la période." }));
  }

  $("outcomes-form").addEventListener("submit", function (event) {
    event.preventDefault();
    loadOutcomes();
  });

  // ------------------------------------------------------------------ start

  api("/auth/me").then(start, function () {
    showSignIn(false);
  });
})();
