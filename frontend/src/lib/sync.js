// Reading the sync API's answers: runs, plans, conflicts and duplicates, normalized for display.

export const DIRECTIONS = [
  { key: "atarys_to_google", label: "ATARYS → Google" },
  { key: "google_to_atarys", label: "Google → ATARYS" },
];

export const COUNT_LABELS = [
  ["created", "créés"],
  ["updated", "modifiés"],
  ["deleted", "supprimés"],
  ["conflicts", "conflits"],
  ["duplicates", "doublons"],
  ["errors", "erreurs"],
];

const RUNNING = new Set(["pending", "queued", "running", "started", "in_progress", "planning", "executing"]);
const FAILED = new Set(["failed", "error", "aborted", "cancelled", "canceled", "refused"]);

export function runIdOf(data) {
  if (!data || typeof data !== "object") return null;
  return data.run_id ?? data.id ?? (data.run && data.run.id) ?? null;
}

export function runOf(data) {
  if (data && typeof data === "object" && data.run && typeof data.run === "object") return data.run;
  return data;
}

export function isRunning(run) {
  if (!run) return false;
  const status = String(run.status || run.state || "").toLowerCase();
  if (RUNNING.has(status)) return true;
  if (status) return false;
  return !run.finished_at && !run.ended_at;
}

export function isFailed(run) {
  return FAILED.has(String((run && (run.status || run.state)) || "").toLowerCase());
}

export function progressOf(run) {
  const p = (run && (run.progress || run)) || {};
  const done = Number(p.done ?? p.processed ?? 0);
  const total = p.total === null || p.total === undefined ? null : Number(p.total);
  return { done: Number.isFinite(done) ? done : 0, total: Number.isFinite(total) ? total : null };
}

function numberOr(value, fallback = 0) {
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

function normalizeDirection(raw) {
  const d = raw && typeof raw === "object" ? raw : {};
  const out = {};
  for (const [key] of COUNT_LABELS) {
    out[key] = numberOr(d[key] ?? d[key.replace(/s$/, "")], 0);
  }
  // The seed's {success, errors} shape: successes count as "updated" when nothing finer is given.
  if (d.success !== undefined && !out.created && !out.updated && !out.deleted) out.updated = numberOr(d.success);
  if (d.unchanged !== undefined) out.unchanged = numberOr(d.unchanged);
  return out;
}

/** The finished run inside a background job's answer (`{run_id: "job-…", result, run}`), or the run itself. */
export function finalRunOf(job) {
  if (!job || typeof job !== "object") return job;
  const inner = [job.run, job.result].find((r) => r && typeof r === "object");
  if (!inner) return job;
  return { ...job, ...inner, id: inner.id ?? inner.run_id ?? job.engine_run_id ?? job.run_id, status: job.status === "failed" ? job.status : inner.status || job.status };
}

function hasDirections(s) {
  return s && typeof s === "object" && !Array.isArray(s) && (s.atarys_to_google || s.google_to_atarys);
}

/** `{atarys_to_google: {created, updated, ...}, google_to_atarys: {...}, conflicts, duplicates}`. */
export function countsOf(run) {
  if (!run || typeof run !== "object") return null;
  const candidates = [run.counts, run.result && run.result.counts, run.result, run.run && run.run.counts, run.summary, run.stats, run];
  const source = candidates.find(hasDirections) || null;
  if (!source) return null;
  const counts = {
    atarys_to_google: normalizeDirection(source.atarys_to_google),
    google_to_atarys: normalizeDirection(source.google_to_atarys),
  };
  const total = (key) => {
    for (const s of [source, run, run.result, run.run]) {
      if (!s || typeof s !== "object") continue;
      const v = s[key] ?? s[`${key}_count`];
      if (Array.isArray(v)) return v.length;
      if (v !== undefined && v !== null && typeof v !== "object") return numberOr(v, 0);
    }
    return 0;
  };
  counts.conflicts = total("conflicts");
  counts.duplicates = total("duplicates");
  return counts;
}

export function totalItems(run) {
  const c = countsOf(run);
  if (!c) return numberOr(run && (run.items_count ?? run.total), 0);
  let sum = 0;
  for (const dir of DIRECTIONS) {
    const d = c[dir.key];
    sum += d.created + d.updated + d.deleted;
  }
  return sum;
}

export function durationOf(run) {
  if (!run) return null;
  if (run.duration_s !== undefined && run.duration_s !== null) return Number(run.duration_s);
  if (run.duration_seconds !== undefined && run.duration_seconds !== null) return Number(run.duration_seconds);
  if (run.duration_ms !== undefined && run.duration_ms !== null) return Number(run.duration_ms) / 1000;
  if (run.duration !== undefined && run.duration !== null) return Number(run.duration);
  const start = Date.parse(run.started_at || run.created_at || "");
  const end = Date.parse(run.finished_at || run.ended_at || "");
  if (Number.isNaN(start) || Number.isNaN(end)) return null;
  return Math.max(0, (end - start) / 1000);
}

/** Field-level changes of one item: `[{field, before, after}]` from any of the shapes the API may use. */
export function changesOf(item) {
  if (!item || typeof item !== "object") return [];
  if (item.to_google || item.to_atarys) {
    // A plan item: the fields it would write on each side.
    return [...changesOf({ changes: item.to_google || {} }), ...changesOf({ changes: item.to_atarys || {} })];
  }
  const raw = item.changes ?? item.diff ?? item.fields;
  if (Array.isArray(raw)) {
    return raw.map((c) =>
      typeof c === "string"
        ? { field: c, before: item.before?.[c], after: item.after?.[c] }
        : Array.isArray(c)
          ? { field: c[0], before: c[1], after: c[2] }
          : { field: c.field ?? c.name, before: c.before ?? c.old ?? c.from, after: c.after ?? c.new ?? c.to },
    );
  }
  if (raw && typeof raw === "object") {
    return Object.entries(raw).map(([field, v]) => {
      if (Array.isArray(v) && v.length === 2) return { field, before: v[0], after: v[1] };
      if (v && typeof v === "object") return { field, before: v.before ?? v.old ?? v.from, after: v.after ?? v.new ?? v.to };
      return { field, before: item.before?.[field], after: v };
    });
  }
  const before = item.before && typeof item.before === "object" ? item.before : {};
  const after = item.after && typeof item.after === "object" ? item.after : {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys
    .filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .map((k) => ({ field: k, before: before[k], after: after[k] }));
}

export const ACTION_LABELS = {
  unlink: "Dissociation",
  forget: "Lien oublié",
  restore: "Restauration",
  recreate: "Recréation",
  link_email: "Liaison par e-mail",
  link_client_data: "Liaison (mêmes coordonnées)",
  create: "Création",
  created: "Création",
  update: "Modification",
  updated: "Modification",
  delete: "Suppression",
  deleted: "Suppression",
  conflict: "Conflit",
  duplicate: "Doublon",
  link: "Liaison",
  linked: "Liaison",
  skip: "Ignoré",
  skipped: "Ignoré",
  error: "Erreur",
  noop: "Aucun changement",
  unchanged: "Aucun changement",
};

export function actionLabel(action) {
  const key = String(action || "").toLowerCase();
  for (const [prefix, label] of Object.entries(ACTION_LABELS)) {
    if (key === prefix || key.endsWith(`_${prefix}`) || key.startsWith(`${prefix}_`)) return label;
  }
  return action || "—";
}

export function directionLabel(direction, action = "") {
  const d = String(direction || action || "").toLowerCase();
  if (d.includes("to_google") || d.includes("google_write") || d === "atarys_to_google" || d === "push") return "ATARYS → Google";
  if (d.includes("to_atarys") || d.includes("atarys_write") || d === "google_to_atarys" || d === "pull") return "Google → ATARYS";
  return "";
}

export function itemsOf(data) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") return [];
  return data.items ?? data.actions ?? data.plan ?? data.changes ?? (data.run && data.run.items) ?? [];
}

function nameFromChanges(item) {
  const value = (field) => {
    const c = changesOf(item).find((ch) => ch.field === field);
    return c ? c.after || c.before : null;
  };
  const nom = value("nom");
  return [nom ? String(nom).toLocaleUpperCase("fr-FR") : null, value("prenom")].filter(Boolean).join(" ") || value("email") || "";
}

export function itemName(item) {
  const rec = item.after || item.before || item.client || item.contact || {};
  return (
    item.label ||
    item.name ||
    item.display_name ||
    [rec.nom ? String(rec.nom).toLocaleUpperCase("fr-FR") : null, rec.prenom].filter(Boolean).join(" ") ||
    rec.email ||
    nameFromChanges(item) ||
    (item.client_id || String(item.direction || "").includes("to_google") ? "Client sans nom" : "Contact Google sans nom")
  );
}

/** A conflict as rows `[{field, atarys, google}]` plus its id and who it is about. */
export function conflictRows(conflict) {
  if (Array.isArray(conflict.fields)) {
    return conflict.fields.map((f) =>
      typeof f === "string"
        ? { field: f, atarys: conflict.atarys?.[f], google: conflict.google?.[f] }
        : { field: f.field ?? f.name, atarys: f.atarys ?? f.atarys_value, google: f.google ?? f.google_value },
    );
  }
  if (conflict.field) {
    return [
      {
        field: conflict.field,
        atarys: conflict.atarys_value ?? (typeof conflict.atarys === "object" ? conflict.atarys?.[conflict.field] : conflict.atarys),
        google: conflict.google_value ?? (typeof conflict.google === "object" ? conflict.google?.[conflict.field] : conflict.google),
      },
    ];
  }
  const a = conflict.atarys_values || conflict.atarys || {};
  const g = conflict.google_values || conflict.google || {};
  const keys = [...new Set([...Object.keys(a), ...Object.keys(g)])];
  return keys
    .filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(g[k] ?? null))
    .map((k) => ({ field: k, atarys: a[k], google: g[k] }));
}

/** Counts per direction computed from a plan's items (a dry run reports no counts of its own). */
export function planCounts(items) {
  const counts = {};
  for (const dir of DIRECTIONS) counts[dir.key] = Object.fromEntries(COUNT_LABELS.map(([k]) => [k, 0]));
  counts.conflicts = 0;
  counts.duplicates = 0;
  for (const item of items) {
    const action = String(item.action || "").toLowerCase();
    const label = directionLabel(item.direction, action);
    const dir = label.startsWith("ATARYS") ? "atarys_to_google" : label.startsWith("Google") ? "google_to_atarys" : null;
    if (Array.isArray(item.conflicts) && item.conflicts.length) counts.conflicts += item.conflicts.length;
    if (!dir) continue;
    if (action.includes("create")) counts[dir].created += 1;
    else if (action.includes("update")) counts[dir].updated += 1;
    else if (action.includes("delete")) counts[dir].deleted += 1;
  }
  return counts;
}

// --- a run told by name ("Depuis Google : 2 clients modifiés — LEFÈVRE Zoé (fonction), …") ---

const SUMMARY_DIRECTIONS = [
  { key: "google_to_atarys", label: "Depuis Google", noun: ["client", "clients"] },
  { key: "atarys_to_google", label: "Vers Google", noun: ["contact", "contacts"] },
];
const SUMMARY_ACTIONS = [
  ["create", "créé", "créés"],
  ["update", "modifié", "modifiés"],
  ["delete", "supprimé", "supprimés"],
  ["link", "relié", "reliés"],
  ["unlink", "détaché", "détachés"],
  ["restore", "restauré", "restaurés"],
  ["error", "en erreur", "en erreur"],
];
const SUMMARY_SHOWN = 5;

function actionKey(action) {
  const a = String(action || "").toLowerCase();
  if (a.includes("unlink")) return "unlink";
  for (const [key] of SUMMARY_ACTIONS) if (a.includes(key)) return key;
  return null;
}

function directionKey(item) {
  const label = directionLabel(item.direction, item.action);
  if (label.startsWith("Google")) return "google_to_atarys";
  if (label.startsWith("ATARYS")) return "atarys_to_google";
  return null;
}

/** One line per direction and action of a run's items, naming the people. */
export function runSummary(items) {
  const lines = [];
  for (const dir of SUMMARY_DIRECTIONS) {
    const parts = [];
    for (const [key, one, many] of SUMMARY_ACTIONS) {
      const found = (items || []).filter((i) => directionKey(i) === dir.key && actionKey(i.action) === key);
      if (!found.length) continue;
      const who = found.slice(0, SUMMARY_SHOWN).map((i) => {
        const fields = key === "update" ? changesOf(i).map((c) => FIELD_NAMES[c.field] || c.field) : [];
        return `${itemName(i)}${fields.length ? ` (${fields.join(", ")})` : ""}`;
      });
      const more = found.length > SUMMARY_SHOWN ? ` et ${found.length - SUMMARY_SHOWN} autre${found.length - SUMMARY_SHOWN > 1 ? "s" : ""}` : "";
      const n = found.length;
      parts.push(`${n} ${n > 1 ? dir.noun[1] : dir.noun[0]} ${n > 1 ? many : one} — ${who.join(", ")}${more}`);
    }
    if (parts.length) lines.push({ direction: dir.key, text: `${dir.label} : ${parts.join(" ; ")}` });
  }
  return lines;
}

const FIELD_NAMES = {
  nom: "nom",
  prenom: "prénom",
  email: "e-mail",
  telephone: "téléphone",
  adresse: "adresse",
  ville: "ville",
  code_postal: "code postal",
  entreprise: "entreprise",
  fonction: "fonction",
};

/** Whether a finished run changed ATARYS' clients (what a background run must tell). */
export function changedAtarys(items) {
  return (items || []).some((i) => directionKey(i) === "google_to_atarys" && ["create", "update", "delete"].includes(actionKey(i.action)));
}

export const TRIGGER_LABELS = {
  api: "bouton « Synchroniser »",
  "api-async": "bouton « Synchroniser »",
  manual: "bouton « Synchroniser »",
  schedule: "planifiée",
  scheduled: "planifiée",
  scheduler: "planifiée",
  poll: "planifiée",
  auto: "planifiée",
  client: "modification d'un client",
  debounce: "modification d'un client",
  push: "modification d'un client",
  contact: "modification d'un contact Google",
  undo: "annulation",
  apply: "aperçu appliqué",
  merge: "fusion de doublons",
  cli: "ligne de commande",
};

/** Who or what started a run, in words ("Aperçu" for a preview). */
export function triggerLabel(run) {
  if (run && run.dry_run) return "Aperçu";
  return TRIGGER_LABELS[run && run.trigger] || "autre";
}

// --- a plan told by name, per direction (first sync, preview, undo) ---

/** The plan's groups a person reads: [{key, side, title, names}] (only the non-empty ones). */
export const PLAN_GROUPS = [
  { key: "google_create", side: "google", title: "Contacts créés dans Google" },
  { key: "google_update", side: "google", title: "Contacts modifiés dans Google" },
  { key: "google_restore", side: "google", title: "Contacts restaurés dans Google" },
  { key: "google_delete", side: "google", title: "Contacts supprimés de Google" },
  { key: "atarys_create", side: "atarys", title: "Clients créés dans ATARYS" },
  { key: "atarys_update", side: "atarys", title: "Clients modifiés dans ATARYS" },
  { key: "atarys_restore", side: "atarys", title: "Clients restaurés dans ATARYS" },
  { key: "atarys_delete", side: "atarys", title: "Clients supprimés d'ATARYS" },
  { key: "link_email", side: "both", title: "Reliés par e-mail (déjà présents des deux côtés)" },
  { key: "link_data", side: "both", title: "Reliés par leurs coordonnées (déjà présents des deux côtés)" },
  { key: "unlink", side: "both", title: "Dissociés (plus synchronisés)" },
  { key: "duplicate", side: "both", title: "Doublons trouvés (rien n'est fusionné sans vous)" },
];

function hasKeys(value) {
  return Boolean(value && typeof value === "object" && Object.keys(value).length);
}

/** The group keys one plan item belongs to (an update may touch both sides). */
export function planGroupKeys(item) {
  const a = String(item.action || "").toLowerCase();
  if (a === "duplicate") return ["duplicate"];
  if (a === "link_email") return ["link_email"];
  if (a.startsWith("link")) return ["link_data"];
  if (a === "unlink" || a === "forget") return ["unlink"];
  const side = a.endsWith("_google") ? "google" : a.endsWith("_atarys") ? "atarys" : null;
  for (const verb of ["restore", "delete", "create"]) {
    if (a.includes(verb) && side) return [`${side}_${verb}`];
  }
  if (a === "update") {
    const keys = [];
    if (hasKeys(item.to_google)) keys.push("google_update");
    if (hasKeys(item.to_atarys)) keys.push("atarys_update");
    return keys;
  }
  return [];
}

/** The plan's items grouped for a person: [{key, side, title, items}]. */
export function planGroups(items) {
  const found = new Map(PLAN_GROUPS.map((g) => [g.key, []]));
  for (const item of items || []) for (const key of planGroupKeys(item)) found.get(key).push(item);
  return PLAN_GROUPS.map((g) => ({ ...g, items: found.get(g.key) })).filter((g) => g.items.length);
}

/** A plan item's identity, to find it among `changed_since_preview`. */
export function planItemKey(item) {
  return [item.action, item.client_id ?? "", item.resource_name ?? "", item.name ?? ""].join("|");
}

/** What an applied plan did: the previewed items minus the ones changed since the preview. */
export function appliedItems(previewed, changed) {
  const skip = new Set((changed || []).map(planItemKey));
  return (previewed || []).filter((i) => !skip.has(planItemKey(i)));
}
