// Knowledge-base administration pages (vanilla JS, no build step). Texts are French.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { tenant: null, csrf: null, doc: null, offset: 0 };
  const PAGE_SIZE = 50;

  function say(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  function button(text, onClick) {  // actions within a list or a row: secondary buttons
    const b = el("button", text, { type: "button", class: "secondary" });
    b.addEventListener("click", onClick);
    return b;
  }

  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
    }
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf || "";
    const base = path.startsWith("/api/") ? "" : `/api/v1/tenants/${encodeURIComponent(state.tenant)}/kb`;
    const response = await fetch(base + path, opts);
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || "La demande a échoué.");
    return body;
  }

  async function run(action, done) {
    try {
      const result = await action();
      if (done) say(done);
      return result;
    } catch (error) {
      say(error.message, true);
      return undefined;
    }
  }

  // -- sign-in ---------------------------------------------------------------------------
  function enter(session) {
    state.tenant = session.agent.tenant_id;
    state.csrf = session.csrf_token;
    $("who").textContent = `${session.agent.name || session.agent.email} — commune « ${state.tenant} »`;
    $("signin").hidden = true;
    $("account").hidden = false;
    $("app").hidden = false;
    loadDocuments();
    // Only the platform's administrators may list communes: the tab appears for them alone.
    fetch("/api/v1/communes").then((r) => { document.querySelector('[data-tab="communes"]').hidden = !r.ok; });
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const session = await run(() => api("/api/v1/auth/login", { method: "POST", json: {
      tenant: $("signin-tenant").value, email: $("signin-email").value, password: $("signin-password").value,
    } }));
    if (session) enter(session);
  });

  $("signout").addEventListener("click", async () => {
    await run(() => api("/api/v1/auth/logout", { method: "POST" }));
    location.reload();
  });

  // -- tabs ------------------------------------------------------------------------------
  const loaders = { documents: loadDocuments, answers: loadAnswers, unanswered: loadUnanswered, feedback: loadFeedback, audit: loadAudit, communes: loadCommunes };
  document.querySelectorAll("nav [data-tab]").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll("nav [data-tab]").forEach((t) => t.removeAttribute("aria-current"));
    tab.setAttribute("aria-current", "page");
    document.querySelectorAll("#app > section").forEach((s) => { s.hidden = s.id !== `tab-${tab.dataset.tab}`; });
    if (loaders[tab.dataset.tab]) loaders[tab.dataset.tab]();
  }));

  // -- documents -------------------------------------------------------------------------
  const STATUS = { published: "Publié", draft: "Brouillon", unpublished: "Dépublié" };

  function statusText(doc) {
    let text = STATUS[doc.status] || doc.status;
    if (doc.expired) text += " (expiré)";
    if (doc.status === "published" && doc.published_version !== doc.current_version) {
      text += " — modifications non publiées";
    }
    return text;
  }

  const SOURCES = { local: "Commune", "service-public": "service-public.fr" };

  async function loadDocuments() {
    const params = new URLSearchParams({ offset: state.offset, limit: PAGE_SIZE });
    ["q", "source", "status", "service"].forEach((name) => {
      if ($(`filter-${name}`).value) params.set(name, $(`filter-${name}`).value);
    });
    const page = await run(() => api(`/documents?${params}`));
    if (!page) return;
    const body = $("documents");
    body.replaceChildren();
    page.items.forEach((doc) => {
      const row = el("tr");
      row.append(el("td", doc.title), el("td", SOURCES[doc.source] || doc.source), el("td", doc.service || "—"),
        el("td", statusText(doc)),
        el("td", doc.read_only ? (doc.modified ? `modifiée le ${doc.modified}` : "—") : `v${doc.current_version}`),
        el("td", [doc.valid_from && `du ${doc.valid_from}`, doc.valid_until && `au ${doc.valid_until}`].filter(Boolean).join(" ") || "—"));
      const cell = el("td");
      cell.append(doc.read_only
        ? button(`Voir les passages de « ${doc.title} »`, () => openFiche(doc))
        : button(`Modifier « ${doc.title} »`, () => openDocument(doc.id)));
      row.append(cell);
      body.append(row);
    });
    const last = Math.min(page.offset + page.items.length, page.total);
    $("documents-caption").textContent = page.total
      ? `Documents ${page.offset + 1} à ${last} sur ${page.total}` : "Aucun document";
    $("previous-page").disabled = page.offset === 0;
    $("next-page").disabled = last >= page.total;
  }

  $("filters").addEventListener("submit", (event) => { event.preventDefault(); state.offset = 0; loadDocuments(); });
  $("previous-page").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadDocuments(); });
  $("next-page").addEventListener("click", () => { state.offset += PAGE_SIZE; loadDocuments(); });

  async function openFiche(doc) {  // a national fiche: read-only, its indexed chunks only
    $("editor").hidden = true;
    $("fiche").hidden = false;
    $("fiche-title").textContent = doc.title;
    const link = el("a", doc.url, { href: doc.url, rel: "noopener" });
    $("fiche-link").replaceChildren("Fiche nationale en lecture seule : ", link);
    await loadChunks(doc.id, "fiche-chunks");
    $("fiche-title").focus();
  }

  function fillEditor(doc) {
    state.doc = doc;
    const meta = doc ? doc.version.meta : {};
    $("fiche").hidden = true;
    $("editor").hidden = false;
    $("editor-title").textContent = doc ? `Modifier « ${doc.title} »` : "Nouveau document";
    $("doc-id").value = doc ? doc.id : "";
    $("doc-id").readOnly = Boolean(doc);
    $("doc-title").value = meta.title || "";
    $("doc-url").value = meta.url || "";
    $("doc-description").value = meta.description || "";
    $("doc-service").value = meta.service || "";
    $("doc-valid-from").value = meta.valid_from || "";
    $("doc-valid-until").value = meta.valid_until || "";
    $("doc-body").value = doc ? doc.version.body : "";
    $("doc-note").value = "";
    $("doc-state").textContent = doc ? `État : ${statusText(doc)} — version ${doc.current_version}` : "";
    $("preview").innerHTML = doc ? doc.preview_html : "";  // rendered and escaped by the server
  }

  async function openDocument(id) {
    const doc = await run(() => api(`/documents/${encodeURIComponent(id)}`));
    if (!doc) return;
    fillEditor(doc);
    loadVersions(id);
    loadChunks(id);
    $("doc-title").focus();
  }

  $("new-document").addEventListener("click", () => {
    fillEditor(null);
    $("versions").replaceChildren();
    $("chunks").replaceChildren();
    $("doc-id").focus();
  });

  function editorPage() {
    const known = state.doc ? state.doc.version.meta : {};  // keeps fields the form does not show
    return { meta: { ...known,
      id: $("doc-id").value, title: $("doc-title").value, url: $("doc-url").value,
      description: $("doc-description").value,
      service: $("doc-service").value, valid_from: $("doc-valid-from").value,
      valid_until: $("doc-valid-until").value,
    }, body: $("doc-body").value, note: $("doc-note").value };
  }

  $("preview-button").addEventListener("click", async () => {
    const result = await run(() => api("/preview", { method: "POST", json: editorPage() }));
    if (result) $("preview").innerHTML = result.html;  // escaped by the server
  });

  $("editor-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const page = editorPage();
    const doc = state.doc
      ? await run(() => api(`/documents/${encodeURIComponent(state.doc.id)}`, { method: "PUT", json: page }),
        "Document enregistré (nouvelle version). Publiez-le pour qu'il soit utilisé par l'assistant.")
      : await run(() => api("/documents", { method: "POST", json: page }), "Document créé (brouillon).");
    if (doc) { fillEditor(doc); loadVersions(doc.id); loadDocuments(); }
  });

  $("publish-button").addEventListener("click", async () => {
    if (!state.doc) return say("Enregistrez d'abord le document.", true);
    const id = state.doc.id;
    const done = await run(() => api(`/documents/${encodeURIComponent(id)}/publish`, { method: "POST" }));
    if (done) {
      await openDocument(id);
      say(`Document publié (version ${done.version}) : l'assistant l'utilise désormais.`);
      loadDocuments();
    }
  });

  $("unpublish-button").addEventListener("click", async () => {
    if (!state.doc) return;
    const id = state.doc.id;
    await run(() => api(`/documents/${encodeURIComponent(id)}/unpublish`, { method: "POST" }),
      "Document dépublié : l'assistant ne l'utilise plus.");
    openDocument(id);
  });

  function diffBlock(diff) {
    const pre = el("pre");
    diff.split("\n").forEach((line) => {
      const span = el("span", `${line}\n`);
      if (line.startsWith("+") && !line.startsWith("+++")) span.className = "ins";
      if (line.startsWith("-") && !line.startsWith("---")) span.className = "del";
      pre.append(span);
    });
    return pre;
  }

  function versionItem(v, restore) {
    const item = el("li");
    item.append(el("p", `Version ${v.number} — ${new Date(v.created_at).toLocaleString("fr-FR")} — ${v.author}${v.note ? ` — ${v.note}` : ""}`));
    const details = el("details");
    details.append(el("summary", "Voir les modifications"), diffBlock(v.diff || "(aucune différence)"));
    item.append(details, button(`Restaurer la version ${v.number}`, restore));
    return item;
  }

  async function loadVersions(id) {
    const versions = await run(() => api(`/documents/${encodeURIComponent(id)}/versions`));
    if (!versions) return;
    $("versions").replaceChildren(...versions.map((v) => versionItem(v, async () => {
      const doc = await run(() => api(`/documents/${encodeURIComponent(id)}/versions/${v.number}/restore`, { method: "POST" }),
        `Version ${v.number} restaurée (nouvelle version, à publier).`);
      if (doc) { fillEditor(doc); loadVersions(id); }
    })));
  }

  async function loadChunks(id, listId = "chunks") {
    const chunks = await run(() => api(`/documents/${encodeURIComponent(id)}/chunks`));
    if (!chunks) return;
    $(listId).replaceChildren(...chunks.map((c) => {
      const item = el("li");
      item.append(el("strong", c.heading || "(début)"), el("p", c.text),
        el("small", c.has_dense ? "Vecteur sémantique calculé" : "Vecteur sémantique en attente"));
      return item;
    }));
    if (!chunks.length) $(listId).append(el("li", "Aucun passage indexé (document non publié)."));
  }

  // -- imports ---------------------------------------------------------------------------
  // The file goes as multipart/form-data (fields "file" and "publish"), as any form sends it.
  // The server refuses past 10 Mo too (knowledge_base/importers.py, MAX_BYTES); checking here
  // first spares sending a file that would be refused.
  const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
  $("import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const file = form.get("file");
    if (!(file instanceof File) || !file.name) { say("Choisissez un fichier à importer.", true); return; }
    if (file.size > MAX_UPLOAD_BYTES) {
      say(`Le fichier « ${file.name} » dépasse la taille autorisée (10 Mo).`, true);
      return;
    }
    say(`Envoi du fichier « ${file.name} »…`);
    const doc = await run(() => api("/imports", { method: "POST", body: form }),
      `Fichier « ${file.name} » importé.`);
    if (doc) { document.querySelector('[data-tab="documents"]').click(); openDocument(doc.id); }
  });

  // Whole-source imports run in the server's background: the page follows the current job.
  const PHASES = {
    reading: "lecture de la source", indexing: "indexation en cours", done: "terminé",
    failed: "échec", stopped: "interrompu (arrêt du serveur)",
  };
  let jobTimer = null;

  function when(iso) {
    return iso ? new Date(iso).toLocaleString("fr-FR") : "—";
  }

  function showJob(job) {
    if (!job) {
      $("job-summary").textContent = "Aucun import lancé depuis le démarrage du serveur.";
      $("job-details").replaceChildren();
      return;
    }
    const label = job.label.charAt(0).toUpperCase() + job.label.slice(1);
    $("job-summary").textContent = `${label} : ${PHASES[job.phase] || job.phase}.`;
    const rows = [
      ["Documents lus", job.documents_seen], ["Documents écrits", job.documents_indexed],
      ["Documents inchangés", job.documents_unchanged], ["Passages indexés", job.chunks_upserted],
      ["Lancé le", when(job.started_at)], ["Terminé le", when(job.finished_at)],
    ];
    if (job.requested_by) rows.push(["Lancé par", job.requested_by]);
    if (job.error) rows.push(["Erreur", job.error]);
    $("job-details").replaceChildren(...rows.flatMap(([term, value]) => [el("dt", term), el("dd", String(value))]));
  }

  async function loadJob() {
    clearTimeout(jobTimer);
    const body = await run(() => api("/jobs/current"));
    if (!body) return;
    showJob(body.job);
    if (body.job && !body.job.finished) jobTimer = setTimeout(loadJob, 1000);
  }
  loaders.imports = loadJob;

  async function startJob(path, json) {
    const job = await run(() => api(path, { method: "POST", json }),
      "Import lancé : il se poursuit en arrière-plan, l'assistant continue de répondre.");
    if (job) loadJob();
  }

  $("refresh-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const only = $("refresh-only").value.split(/\s+/).filter(Boolean);
    startJob("/imports/service-public", { only });
  });
  $("job-local").addEventListener("click", () => startJob("/jobs", { kind: "local" }));
  $("job-reindex").addEventListener("click", () => startJob("/jobs", { kind: "reindex" }));

  // -- playground ------------------------------------------------------------------------
  $("playground-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Recherche en cours…");
    const result = await run(() => api("/playground", { method: "POST", json: { question: $("playground-question").value } }), "Résultat affiché.");
    if (!result) return;
    const box = $("playground-answer");
    box.replaceChildren(el("h3", "Réponse que donnerait l'assistant"), el("p", result.answer));
    if (result.action === "validated_answer") box.append(el("p", "Réponse validée donnée directement (sans modèle de langage)."));
    box.append(el("p", `Pertinence : ${result.relevance} (seuil ${result.min_relevance})`));
    $("playground-chunks").replaceChildren(...result.chunks.map((c) => {
      const item = el("li");
      item.append(el("strong", `${c.title} — ${c.heading}`), el("p", c.text),
        el("small", `Score ${c.score} · sémantique ${c.dense ?? "—"} · mots-clés ${c.sparse ?? "—"}`));
      return item;
    }));
  });

  // -- validated answers -----------------------------------------------------------------
  function fillAnswer(a) {
    $("answer-id").value = a.id || "";
    $("answer-question").value = a.question || "";
    $("answer-paraphrases").value = (a.paraphrases || []).join("\n");
    $("answer-text").value = a.answer || "";
    $("answer-sources").value = (a.sources || []).map((s) => s.id).join(" ");
    $("answer-archived").checked = a.status === "archived";
    $("answer-question").focus();
  }

  async function loadAnswers() {
    const answers = await run(() => api("/answers"));
    if (!answers) return;
    $("answers").replaceChildren(...answers.map((a) => {
      const item = el("li");
      item.append(el("strong", a.question), el("p", a.answer),
        el("small", `Version ${a.version}${a.status === "archived" ? " — archivée" : a.status === "draft" ? " — brouillon (non diffusée)" : ""}`),
        button(`Modifier la réponse « ${a.question} »`, () => fillAnswer(a)));
      return item;
    }));
  }

  $("answer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("answer-id").value;
    const json = {
      question: $("answer-question").value, answer: $("answer-text").value,
      paraphrases: $("answer-paraphrases").value.split("\n").map((p) => p.trim()).filter(Boolean),
      sources: $("answer-sources").value.split(/\s+/).filter(Boolean).map((sid) => ({ id: sid })),
      status: $("answer-archived").checked ? "archived" : "active",
    };
    const saved = await run(() => api(id ? `/answers/${id}` : "/answers", { method: id ? "PUT" : "POST", json }),
      "Réponse validée enregistrée.");
    if (saved) { fillAnswer({}); loadAnswers(); }
  });

  // -- unanswered questions --------------------------------------------------------------
  async function loadUnanswered() {
    const groups = await run(() => api("/unanswered"));
    if (!groups) return;
    $("unanswered").replaceChildren(...groups.map((g) => {
      const item = el("li");
      const list = el("ul");
      g.examples.forEach((q) => list.append(el("li", q)));
      item.append(el("strong", `${g.count} question(s) — ${Object.keys(g.reasons).join(", ")}`), list,
        button("Créer un document", async () => {
          const doc = await run(() => api("/unanswered/draft", { method: "POST", json: { title: g.examples[0].slice(0, 190), questions: g.examples } }),
            "Brouillon créé : complétez-le puis publiez-le.");
          if (doc) { document.querySelector('[data-tab="documents"]').click(); openDocument(doc.id); }
        }),
        button("Créer une réponse validée", () => {
          document.querySelector('[data-tab="answers"]').click();
          fillAnswer({ question: g.examples[0], paraphrases: g.examples.slice(1) });
        }));
      return item;
    }));
    if (!groups.length) $("unanswered").append(el("li", "Aucune question en attente."));
  }

  // -- residents' feedback on answers ----------------------------------------------------
  async function loadFeedback() {
    const groups = await run(() => api("/feedback"));
    if (!groups) return;
    $("feedback").replaceChildren(...groups.map((g) => {
      const row = el("tr");
      const examples = el("ul");
      g.examples.forEach((e) => {
        const item = el("li");
        item.append(el("strong", e.question), el("p", e.answer));
        if (e.comment) item.append(el("p", `Commentaire : ${e.comment}`));
        examples.append(item);
      });
      const actions = el("td");
      if (g.document_id) {
        actions.append(button(`Ouvrir le document ${g.document_id}`, () => {
          document.querySelector('[data-tab="documents"]').click();
          openDocument(g.document_id);
        }));
      }
      actions.append(button("Créer une réponse validée", () => {
        document.querySelector('[data-tab="answers"]').click();
        fillAnswer({ question: g.examples[0].question, sources: g.document_id ? [{ id: g.document_id }] : [] });
      }));
      row.append(el("td", g.document_title), el("td", g.reason_label), el("td", String(g.count)),
        el("td"), actions);
      row.children[3].append(examples);
      return row;
    }));
    if (!groups.length) {
      const row = el("tr");
      row.append(el("td", "Aucun avis négatif pour le moment.", { colspan: "5" }));
      $("feedback").append(row);
    }
  }

  // -- audit log -------------------------------------------------------------------------
  async function loadAudit() {
    const entries = await run(() => api("/audit"));
    if (!entries) return;
    $("audit").replaceChildren(...entries.map((e) => {
      const row = el("tr");
      row.append(el("td", new Date(e.at).toLocaleString("fr-FR")), el("td", e.actor), el("td", e.action), el("td", e.target || "—"));
      return row;
    }));
  }

  // -- communes (platform administrators) ------------------------------------------------
  async function loadCommunes() {
    const communes = await run(() => api("/api/v1/communes"));
    if (!communes) return;
    $("communes").replaceChildren(...communes.map((c) => {
      const row = el("tr");
      row.append(el("td", c.id), el("td", c.name), el("td", new Date(c.created_at).toLocaleDateString("fr-FR")));
      return row;
    }));
  }

  $("commune-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    let services = null;
    if ($("commune-services").value.trim()) {
      try {
        const parsed = JSON.parse($("commune-services").value);
        services = Array.isArray(parsed) ? parsed : parsed.services;
      } catch (error) {
        say("Les services ne sont pas un JSON valide.", true);
        return;
      }
    }
    const created = await run(() => api("/api/v1/communes", { method: "POST", json: {
      id: $("commune-id").value.trim(), name: $("commune-name").value,
      admin_email: $("commune-admin-email").value, admin_name: $("commune-admin-name").value, services,
    } }), "Commune créée.");
    if (!created) return;
    const box = $("commune-created");
    box.replaceChildren(
      el("p", `Commune « ${created.commune.name} » créée avec ${created.services.length} services.`),
      el("p", `Premier administrateur : ${created.admin_email}. Mot de passe initial, affiché une seule fois :`),
      el("code", created.initial_password),
    );
    box.hidden = false;
    $("commune-form").reset();
    loadCommunes();
  });

  // -- start -----------------------------------------------------------------------------
  fetch("/api/v1/auth/me").then((r) => (r.ok ? r.json() : null)).then((me) => {
    if (me && me.agent && me.agent.role === "admin") enter(me);
  }).catch(() => {});
})();
